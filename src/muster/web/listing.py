"""Long lists: one declarative helper that filters, sorts, pages and exports a page's rows.

A page declares its ``Listing`` once (module level): the columns (translated header, how to get the
translated cell value), the allowed sort keys (a whitelist; an unknown ``?sort=`` falls back to the
default, never a 500), the filters (unit, branch, period, state, free text, year …) and the page-size
bounds. The view passes rows it has already scoped through ``muster.orgs.access`` (a QuerySet, or a list
of dicts/objects for computed rows) and gets a ``ListingPage``::

    MEETINGS = Listing(
        name="meetings", title=gettext_lazy("Meetings"),
        columns=[Column(gettext_lazy("Date"), "starts_at", sort="date"), …],
        sorts={"date": Sort(gettext_lazy("Date"), ("starts_at", "pk"))}, default_sort="-date",
        filters=[UnitFilter("branch", gettext_lazy("Party organization"), "unit__path"), …],
    )

    lst = MEETINGS.apply(request, qs, units={"branch": party_units(user)})
    if lst.export_response is not None:
        return lst.export_response
    return render(request, "…", {"lst": lst}, status=lst.status)

and the template includes ``web/_listing_controls.html`` (filter form, sort, "导出 Excel", pager) with
``lst``, loops ``lst.headers`` for the ``<th>`` (sort links) and ``lst.rows`` for the rows.

Query string: filter fields by name, ``sort`` (a key, ``-key`` descending), ``page`` (clamped into
1..last; junk → 1), ``size`` (one of ``PAGE_SIZES`` up to the listing's maximum, else the default),
``export=xlsx|csv`` (the same filtered, sorted rows, at most ``export_limit``; over it the user is sent
back to the list with a message saying how many rows matched and how to narrow them).

Paging uses Django's ``Paginator`` (one ``COUNT`` and one bounded ``SELECT`` for a QuerySet). A filter
form that does not validate answers 400 with the errors shown and no rows.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import reduce
from typing import Any

from django import forms
from django.contrib import messages
from django.core.paginator import Page, Paginator
from django.db.models import Model, Q, QuerySet
from django.forms.utils import flatatt
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, QueryDict
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.html import format_html, format_html_join
from django.utils.http import content_disposition_header
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from muster import dates
from muster.audit.services import log_action
from muster.clock import local_midnight
from muster.orgs import access
from muster.orgs.models import Unit
from muster.tabular.writer import CSV_CONTENT_TYPE, XLSX_CONTENT_TYPE, SheetData, csv_bytes, xlsx_bytes
from muster.web.forms import BoundedDateField, TextRule, UnitChoiceField

PAGE_SIZES = (10, 25, 50, 100, 200)
EXPORT_FORMATS = ("xlsx", "csv")
TEXT_MAX = 100
RESERVED = frozenset({"sort", "page", "size", "export"})

Rows = QuerySet[Any] | Sequence[Any]


# ---------------------------------------------------------------- reading a row


def resolve(row: Any, path: str) -> Any:
    """``row``'s value at ``path`` ("unit__path"): dict keys or attributes, step by step (None stops)."""
    value = row
    for part in path.split("__"):
        if value is None:
            return None
        value = value.get(part) if isinstance(value, Mapping) else getattr(value, part, None)
    if callable(value) and not isinstance(value, Model):
        value = value()
    return value


def choice_label(choices: Iterable[tuple[Any, Any]]) -> Callable[[Any], str]:
    """A cell formatter showing a value's translated label (never the raw key)."""
    labels = {k: v for k, v in choices}

    def label(value: Any) -> str:
        return str(labels.get(value, value if value not in (None, "") else ""))

    return label


def yes_no(value: Any) -> str:
    return _("Yes") if value else _("No")


# ---------------------------------------------------------------- declarations


@dataclass(frozen=True)
class Column:
    """A column: its translated header, its cell value (a path or a function of the row) for the export,
    an optional ``format`` (e.g. ``choice_label(Status.choices)``) and the sort key its header toggles."""

    label: Any
    value: str | Callable[[Any], Any]
    sort: str | None = None
    format: Callable[[Any], Any] | None = None
    export: bool = True

    def cell(self, row: Any) -> Any:
        v = self.value(row) if callable(self.value) else resolve(row, self.value)
        if self.format is not None:
            v = self.format(v)
        if isinstance(v, Model):
            v = str(v)
        elif isinstance(v, datetime) and v.tzinfo is not None:
            v = timezone.localtime(v).replace(tzinfo=None)  # a spreadsheet shows local wall time
        elif isinstance(v, Promise):
            v = str(v)
        return v


@dataclass(frozen=True)
class Sort:
    """A whitelisted order: the fields (ORM order_by names / row paths; "-" for descending) ascending;
    ``-key`` in the query string reverses every field."""

    label: Any
    fields: tuple[str, ...]


class Filter:
    """One filter: its form fields, and how it narrows rows (a QuerySet, or a list of rows)."""

    name: str
    label: Any

    def form_fields(self, options: Any) -> dict[str, forms.Field]:
        raise NotImplementedError

    def apply(self, rows: Rows, data: Mapping[str, Any]) -> Rows:
        raise NotImplementedError

    def active(self, data: Mapping[str, Any]) -> bool:
        return any(data.get(k) not in (None, "") for k in self.form_fields_names())

    def form_fields_names(self) -> list[str]:
        return [self.name]


def _filter_list(rows: Sequence[Any], keep: Callable[[Any], bool]) -> list[Any]:
    return [r for r in rows if keep(r)]


class UnitFilter(Filter):
    """Rows in a unit's subtree. ``path`` is the row's unit path ("unit__path"); the choices are the units
    the view passes as ``apply(…, units={name: queryset})`` (already scoped: a unit out of sight is not a
    valid choice, so the answer is the same as for a unit that does not exist)."""

    def __init__(self, name: str, label: Any, path: str) -> None:
        self.name, self.label, self.path = name, label, path

    def form_fields(self, options: Any) -> dict[str, forms.Field]:
        qs = options if options is not None else Unit.objects.none()
        return {self.name: UnitChoiceField(label=self.label, queryset=qs, required=False, widget=FastSelect)}

    def apply(self, rows: Rows, data: Mapping[str, Any]) -> Rows:
        unit = data.get(self.name)
        if unit is None:
            return rows
        if isinstance(rows, QuerySet):
            return rows.filter(**{f"{self.path}__startswith": unit.path})
        return _filter_list(rows, lambda r: str(resolve(r, self.path) or "").startswith(unit.path))


class ChoiceFilter(Filter):
    """Rows whose ``lookup`` equals the chosen value (a state, a kind …)."""

    def __init__(self, name: str, label: Any, lookup: str, choices: Sequence[tuple[Any, Any]]) -> None:
        self.name, self.label, self.lookup, self.choices = name, label, lookup, list(choices)

    def form_fields(self, options: Any) -> dict[str, forms.Field]:
        choices = options if options is not None else self.choices
        return {
            self.name: forms.ChoiceField(
                label=self.label, choices=[("", _("All")), *choices], required=False, widget=FastSelect
            )
        }

    def apply(self, rows: Rows, data: Mapping[str, Any]) -> Rows:
        value = data.get(self.name)
        if not value:
            return rows
        if isinstance(rows, QuerySet):
            return rows.filter(**{self.lookup: value})
        return _filter_list(rows, lambda r: str(resolve(r, self.lookup)) == value)


class PeriodFilter(Filter):
    """Rows whose date (or aware date-time) ``lookup`` falls in [from, until] (both days included)."""

    def __init__(
        self,
        name: str,
        label: Any,
        lookup: str,
        *,
        is_datetime: bool = False,
        names: tuple[str, str] | None = None,
        labels: tuple[Any, Any] | None = None,
    ) -> None:
        self.name, self.label, self.lookup, self.is_datetime = name, label, lookup, is_datetime
        self.names = names or (f"{name}_from", f"{name}_until")
        self.labels = labels

    def form_fields_names(self) -> list[str]:
        return list(self.names)

    def form_fields(self, options: Any) -> dict[str, forms.Field]:
        def day(label: Any) -> forms.Field:
            return BoundedDateField(
                label=label, required=False, widget=forms.DateInput(attrs={"type": "date"})
            )

        lo_label, hi_label = self.labels or (
            _("%(period)s from") % {"period": self.label},
            _("%(period)s until") % {"period": self.label},
        )
        return {self.names[0]: day(lo_label), self.names[1]: day(hi_label)}

    def _bound(self, day: date) -> date | datetime:
        return local_midnight(day) if self.is_datetime else day

    def apply(self, rows: Rows, data: Mapping[str, Any]) -> Rows:
        lo, hi = data.get(self.names[0]), data.get(self.names[1])
        if lo is None and hi is None:
            return rows
        start = self._bound(lo) if lo is not None else None
        end = self._bound(hi + timedelta(days=1)) if hi is not None else None
        if isinstance(rows, QuerySet):
            if start is not None:
                rows = rows.filter(**{f"{self.lookup}__gte": start})
            if end is not None:
                rows = rows.filter(**{f"{self.lookup}__lt": end})
            return rows

        def keep(r: Any) -> bool:
            v = resolve(r, self.lookup)
            if v is None:
                return False
            return (start is None or v >= start) and (end is None or v < end)

        return _filter_list(rows, keep)


class YearFilter(Filter):
    """One calendar year (in ``muster.dates``' range). With ``lookup`` it narrows rows; without, the view
    reads ``lst.data[name]`` itself (a branches × months table, a leaderboard period)."""

    def __init__(
        self, name: str, label: Any, lookup: str | None = None, *, is_datetime: bool = False
    ) -> None:
        self.name, self.label, self.lookup, self.is_datetime = name, label, lookup, is_datetime

    def form_fields(self, options: Any) -> dict[str, forms.Field]:
        messages_ = {"min_value": dates.year_range_message(), "max_value": dates.year_range_message()}
        return {
            self.name: forms.IntegerField(
                label=self.label,
                required=False,
                min_value=dates.FIRST_YEAR,
                max_value=dates.LAST_YEAR,
                error_messages=messages_,
                widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
            )
        }

    def apply(self, rows: Rows, data: Mapping[str, Any]) -> Rows:
        year = data.get(self.name)
        if year is None or self.lookup is None:
            return rows
        lo, hi = date(year, 1, 1), date(year + 1, 1, 1)
        period = PeriodFilter(self.name, self.label, self.lookup, is_datetime=self.is_datetime)
        return period.apply(rows, {period.names[0]: lo, period.names[1]: hi - timedelta(days=1)})


class TextFilter(Filter):
    """Free text: rows where any of ``lookups`` contains the words (case-insensitive; each word must
    match somewhere). At most ``TEXT_MAX`` characters; control characters are refused with the rules'
    message."""

    def __init__(self, name: str, label: Any, lookups: Sequence[str]) -> None:
        self.name, self.label, self.lookups = name, label, tuple(lookups)

    def form_fields(self, options: Any) -> dict[str, forms.Field]:
        f = forms.CharField(label=self.label, required=False, max_length=TEXT_MAX, strip=True)
        f.validators.append(TextRule(self.name, self.label))
        return {self.name: f}

    def apply(self, rows: Rows, data: Mapping[str, Any]) -> Rows:
        words = (data.get(self.name) or "").split()[:8]
        if not words:
            return rows
        if isinstance(rows, QuerySet):
            for w in words:
                rows = rows.filter(
                    reduce(operator.or_, (Q(**{f"{lk}__icontains": w}) for lk in self.lookups))
                )
            return rows.distinct() if any("__" in lk for lk in self.lookups) else rows

        def keep(r: Any) -> bool:
            text = " ".join(str(resolve(r, lk) or "") for lk in self.lookups).casefold()
            return all(w.casefold() in text for w in words)

        return _filter_list(rows, keep)


class CustomFilter(Filter):
    """A filter whose narrowing the page supplies: ``narrow(rows, value) -> rows``."""

    def __init__(
        self, name: str, field_factory: Callable[[Any], forms.Field], narrow: Callable[[Rows, Any], Rows]
    ) -> None:
        self.name, self.field_factory, self.narrow = name, field_factory, narrow
        self.label = ""

    def form_fields(self, options: Any) -> dict[str, forms.Field]:
        return {self.name: self.field_factory(options)}

    def apply(self, rows: Rows, data: Mapping[str, Any]) -> Rows:
        value = data.get(self.name)
        return rows if value in (None, "") else self.narrow(rows, value)


# ---------------------------------------------------------------- the form


class FastSelect(forms.Select):
    """A select rendered in one pass (Django renders each option through a template: a list of 600 units
    cost a quarter of a second)."""

    def render(
        self, name: str, value: Any, attrs: dict[str, Any] | None = None, renderer: Any = None
    ) -> SafeString:
        final_attrs = self.build_attrs(self.attrs, attrs)
        selected = {str(v) for v in self.format_value(value)}
        options = [
            format_html(
                '<option value="{}" selected>{}</option>'
                if str(v) in selected
                else '<option value="{}">{}</option>',
                v,
                label,
            )
            for v, label, _index in self.choices_iter()
        ]
        return format_html(
            '<select name="{}"{}>{}</select>',
            name,
            flatatt(final_attrs),
            format_html_join("", "{}", ((o,) for o in options)),
        )

    def choices_iter(self) -> Iterable[tuple[Any, Any, int]]:
        for i, (v, label) in enumerate(self.choices):
            if hasattr(v, "value"):  # ModelChoiceIteratorValue
                v = v.value
            yield ("" if v is None else v), label, i


class FilterForm(forms.Form):
    """The filter fields of a listing (bound to the query string)."""

    def __init__(self, data: QueryDict | None, *, filters: Sequence[Filter], options: Mapping[str, Any]):
        super().__init__(data)
        for f in filters:
            for name, fld in f.form_fields(options.get(f.name)).items():
                if isinstance(fld.widget, forms.Select | forms.SelectMultiple):
                    fld.widget.attrs.setdefault("class", "form-select form-select-sm")
                else:
                    fld.widget.attrs.setdefault("class", "form-control form-control-sm")
                self.fields[name] = fld


# ---------------------------------------------------------------- the result


@dataclass
class Header:
    label: str
    key: str | None = None  # the sort key, None when the column does not sort
    url: str = ""
    active: bool = False
    descending: bool = False


@dataclass
class ListingPage:
    """What a list page renders: ``rows`` (this page's rows, after ``prepare``), ``page`` (Django's
    ``Page``: numbers), ``form`` (the filters), ``headers`` (sort links), ``total``, ``query`` helpers,
    ``status`` (400 when a filter is invalid) and ``export_response`` (set when ``?export=`` asked for
    one and it is ready; a redirect with a message when it is over the limit)."""

    listing: Listing
    form: FilterForm
    page: Page[Any]
    rows: list[Any]
    sort: str
    size: int
    params: QueryDict
    status: int = 200
    export_response: HttpResponse | None = None
    data: dict[str, Any] = field(default_factory=dict)
    headers: list[Header] = field(default_factory=list)

    @property
    def total(self) -> int:
        return self.page.paginator.count

    @property
    def filtered(self) -> bool:
        return any(f.active(self.data) for f in self.listing.filters)

    def url(self, **changes: Any) -> str:
        """``?…`` for this list with ``changes`` applied (None removes a parameter)."""
        params = self.params.copy()
        for k, v in changes.items():
            params.pop(k, None)
            if v is not None:
                params[k] = str(v)
        text = params.urlencode()
        return f"?{text}" if text else "?"

    @property
    def query(self) -> str:
        """The query string without ``page`` and ``export`` (for pager links and hidden fields)."""
        params = self.params.copy()
        params.pop("page", None)
        params.pop("export", None)
        return params.urlencode()

    def page_url(self, number: int) -> str:
        return self.url(page=number, export=None)

    @property
    def first_url(self) -> str:
        return self.page_url(1)

    @property
    def last_url(self) -> str:
        return self.page_url(self.page.paginator.num_pages)

    @property
    def prev_url(self) -> str:
        return self.page_url(self.page.number - 1) if self.page.has_previous() else ""

    @property
    def next_url(self) -> str:
        return self.page_url(self.page.number + 1) if self.page.has_next() else ""

    @property
    def export_urls(self) -> list[tuple[str, str]]:
        return [(fmt, self.url(export=fmt, page=None)) for fmt in EXPORT_FORMATS]

    @property
    def export_url(self) -> str:
        return self.url(export="xlsx", page=None)

    @property
    def sort_choices(self) -> list[tuple[str, str, bool]]:
        """(value, label, selected) for a sort select (both directions of each key)."""
        out = []
        for key, s in self.listing.sorts.items():
            out.append((key, f"{s.label} ↑", self.sort == key))
            out.append((f"-{key}", f"{s.label} ↓", self.sort == f"-{key}"))
        return out

    @property
    def hidden_params(self) -> list[tuple[str, str]]:
        """Query parameters the filter form does not carry itself (kept across a new filter)."""
        keep = ("size", *self.listing.keep)
        return [(k, v) for k in keep for v in self.params.getlist(k)]


@dataclass
class Listing:
    name: str  # the file-name stem of the export ("meetings")
    title: Any  # the sheet title
    columns: Sequence[Column]
    sorts: Mapping[str, Sort]
    default_sort: str
    filters: Sequence[Filter] = ()
    page_size: int = 50
    max_page_size: int = 200
    export_limit: int = 5000
    keep: tuple[str, ...] = ()  # parameters of the page's own selector, carried by the filter form

    def __post_init__(self) -> None:
        names = [n for f in self.filters for n in f.form_fields_names()]
        assert not RESERVED & set(names), "a filter may not be called sort, page, size or export"
        assert self.default_sort.lstrip("-") in self.sorts, "the default sort must be a sort key"

    # -- parsing the query string -----------------------------------------------------------

    def sort_from(self, raw: str | None) -> str:
        raw = (raw or "").strip()
        return raw if raw.lstrip("-") in self.sorts and raw.count("-") <= 1 and raw else self.default_sort

    def size_from(self, raw: str | None) -> int:
        raw = (raw or "").strip()
        if raw.isascii() and raw.isdigit() and len(raw) <= 4:
            n = int(raw)
            if n in PAGE_SIZES and n <= self.max_page_size:
                return n
        return self.page_size

    def order_fields(self, sort: str) -> list[str]:
        fields = list(self.sorts[sort.lstrip("-")].fields)
        if sort.startswith("-"):
            fields = [f[1:] if f.startswith("-") else f"-{f}" for f in fields]
        return fields

    # -- the work ------------------------------------------------------------------------

    def filter(self, rows: Rows, data: Mapping[str, Any]) -> Rows:
        for f in self.filters:
            rows = f.apply(rows, data)
        return rows

    def order(self, rows: Rows, sort: str) -> Rows:
        fields = self.order_fields(sort)
        if isinstance(rows, QuerySet):
            return rows.order_by(*fields)
        out = list(rows)
        for f in reversed(fields):  # stable sorts, last key first; each row's value read once per key
            desc = f.startswith("-")
            path = f.lstrip("-")
            pairs = [(resolve(r, path), r) for r in out]
            present = [(_sortable(v), r) for v, r in pairs if v is not None]
            present.sort(key=_first, reverse=desc)
            out = [r for _v, r in present] + [r for v, r in pairs if v is None]  # no value: last
        return out

    def read(self, request: HttpRequest, *, options: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """The filter values asked for ({} when the form does not validate): for a view that needs one
        (a year, a scope) before it can produce the rows; ``apply`` validates the same form again."""
        form = FilterForm(request.GET.copy(), filters=self.filters, options=options or {})
        return dict(form.cleaned_data) if form.is_valid() else {}

    def apply(
        self,
        request: HttpRequest,
        rows: Rows,
        *,
        options: Mapping[str, Any] | None = None,
        prepare: Callable[[list[Any]], list[Any]] | None = None,
        presorted: str | None = None,
    ) -> ListingPage:
        """Filter, sort and page ``rows`` (already scoped) as ``request`` asks; build the export when asked.

        ``options``: per filter name, its choices (a unit QuerySet for a ``UnitFilter``). ``prepare``
        turns a page's (or the export's) raw rows into what is shown (computed figures for just those).
        ``presorted``: the sort a list of rows already comes in (not sorted again when that one is asked)."""
        params = request.GET.copy()
        form = FilterForm(params, filters=self.filters, options=options or {})
        status = 200
        if form.is_valid():
            data = dict(form.cleaned_data)
            selected = self.filter(rows, data)
        else:
            data, status = {}, 400
            selected = rows.none() if isinstance(rows, QuerySet) else []
        sort = self.sort_from(params.get("sort"))
        size = self.size_from(params.get("size"))
        if isinstance(selected, QuerySet) or sort != presorted:
            selected = self.order(selected, sort)
        fmt = params.get("export")
        export_response = None
        if fmt in EXPORT_FORMATS and status == 200:
            export_response = self._export(request, selected, fmt, prepare, data)
        paginator = Paginator(selected, size)
        number = _page_number(params.get("page"), paginator.num_pages)
        page = paginator.page(number)
        page_rows = list(page.object_list)
        if prepare is not None:
            page_rows = prepare(page_rows)
        result = ListingPage(
            listing=self,
            form=form,
            page=page,
            rows=page_rows,
            sort=sort,
            size=size,
            params=params,
            status=status,
            export_response=export_response,
            data=data,
        )
        result.headers = self._headers(result)
        return result

    def _headers(self, lst: ListingPage) -> list[Header]:
        out = []
        for c in self.columns:
            h = Header(str(c.label), c.sort)
            if c.sort:
                h.active = lst.sort.lstrip("-") == c.sort
                h.descending = lst.sort.startswith("-")
                nxt = f"-{c.sort}" if h.active and not h.descending else c.sort
                h.url = lst.url(sort=nxt, page=None, export=None)
            out.append(h)
        return out

    def _export(
        self,
        request: HttpRequest,
        rows: Rows,
        fmt: str,
        prepare: Callable[[list[Any]], list[Any]] | None,
        data: Mapping[str, Any] | None = None,
    ) -> HttpResponse:
        count = rows.count() if isinstance(rows, QuerySet) else len(rows)
        if count > self.export_limit:
            messages.error(
                request,
                ngettext(
                    "%(count)s row matches; an export holds at most %(limit)s. Narrow the filter "
                    "(a unit, a period) and export again.",
                    "%(count)s rows match; an export holds at most %(limit)s. Narrow the filter "
                    "(a unit, a period) and export again.",
                    count,
                )
                % {"count": count, "limit": self.export_limit},
            )
            params = request.GET.copy()
            params.pop("export", None)
            return HttpResponseRedirect(f"{request.path}?{params.urlencode()}", status=303)
        selected = list(rows)
        if prepare is not None:
            selected = prepare(selected)
        response = self.export(selected, fmt)
        self._audit_export(request, fmt, len(selected), data or {})
        return response

    def _audit_export(self, request: HttpRequest, fmt: str, count: int, data: Mapping[str, Any]) -> None:
        """Every export is audited: which list, with which filters, how many rows. The event is filed under
        the filtered unit (else the user's own view of the list), so whoever audits that unit sees it."""
        filters = {k: str(v) for k, v in data.items() if v not in (None, "", [], ())}
        user = getattr(request, "user", None)
        unit_path = next((v.path for v in data.values() if isinstance(getattr(v, "path", None), str)), "")
        if not unit_path and user is not None and user.is_authenticated:
            paths = access.scope_paths(user, access.Perm.VIEW) or [""]
            unit_path = paths[0] if len(paths) == 1 else ""  # one subtree: its auditors see the event
        log_action(
            user,
            action="web.list.exported",
            unit_path=unit_path,
            changes={"list": self.name, "format": fmt, "rows": count, "filters": filters},
        )

    def export(self, rows: Sequence[Any], fmt: str) -> HttpResponse:
        """The rows as an .xlsx (or .csv) file: translated headers, translated cell values."""
        columns = [c for c in self.columns if c.export]
        headers = [str(c.label) for c in columns]
        data = [[c.cell(r) for c in columns] for r in rows]
        if fmt == "csv":
            body, ctype = csv_bytes(headers, data), CSV_CONTENT_TYPE
        else:
            fmt = "xlsx"
            widths = [max(10, min(40, len(h) * 2 + 4)) for h in headers]
            body = xlsx_bytes([SheetData(str(self.title), headers, data, widths)])
            ctype = XLSX_CONTENT_TYPE
        resp = HttpResponse(body, content_type=ctype)
        resp["Content-Disposition"] = content_disposition_header(True, f"{self.name}.{fmt}") or ""
        return resp


def _page_number(raw: str | None, num_pages: int) -> int:
    """The page asked for, clamped into 1..num_pages (junk, 0 and negatives → 1; past the end → last)."""
    raw = (raw or "").strip()
    if not (raw.isascii() and raw.isdigit()):
        return 1
    if len(raw) > 12:
        return num_pages
    return min(max(int(raw), 1), num_pages)


def _first(pair: tuple[Any, Any]) -> Any:
    return pair[0]


def _sortable(v: Any) -> Any:
    if isinstance(v, str):
        return v.casefold()
    if isinstance(v, Model):
        return str(v)
    return v


__all__ = [
    "EXPORT_FORMATS",
    "PAGE_SIZES",
    "ChoiceFilter",
    "Column",
    "CustomFilter",
    "Filter",
    "Header",
    "Listing",
    "ListingPage",
    "PeriodFilter",
    "Sort",
    "TextFilter",
    "UnitFilter",
    "YearFilter",
    "choice_label",
    "resolve",
    "yes_no",
]
