from ninja import NinjaAPI

api = NinjaAPI(title="Muster API", version="1")
