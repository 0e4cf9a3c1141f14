"""Party-life web pages (thin: forms parse, services decide, queries read)."""
