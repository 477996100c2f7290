def test_healthz_ok(client):
    r = client.get("/healthz")
    assert r.status_code == 200
    assert r.json == {"status": "ok", "database": "ok"}


def test_healthz_503_when_database_unreachable(tmp_path):
    from app import create_app

    app = create_app({"SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://nobody@127.0.0.1:1/none",
                      "SECRET_KEY": "x"}, instance_path=tmp_path)
    r = app.test_client().get("/healthz")
    assert r.status_code == 503
    assert r.json["status"] == "unavailable"


def test_home_lists_stores_and_products(client, world):
    from app.catalog.models import Product, Sku
    from app.extensions import db

    p = Product(merchant_id=world.merchant.id, name="拿铁", image="img/products/latte.png", featured=True)
    p.skus = [Sku(name="中杯", price_fen=2800, member_price_fen=2500)]
    db.session.add(p)
    db.session.flush()
    r = client.get(f"/m/{world.merchant.slug}/")
    html = r.get_data(as_text=True)
    assert r.status_code == 200
    assert "国贸店" in html and "三里屯店" in html
    assert "拿铁" in html and "¥28" in html and "¥25" in html
    assert "望京店" not in html  # another merchant's store


def test_unknown_page_is_a_friendly_chinese_page(client):
    r = client.get("/no/such/page", headers={"Accept": "text/html"})
    assert r.status_code == 404
    assert "页面或资源不存在" in r.get_data(as_text=True)


def test_unknown_api_path_is_json_envelope(client):
    r = client.get("/api/v1/nope")
    assert r.status_code == 404
    assert r.json["error"]["code"] == "not_found"


def test_cross_site_form_posts_are_refused(client, world):
    r = client.post("/counter/login", data={"username": "cashier", "password": "x"},
                    headers={"Origin": "https://evil.example"})
    assert r.status_code == 403
    r = client.post("/counter/login", data={"username": "cashier", "password": "pass1234"},
                    headers={"Origin": "http://localhost"})
    assert r.status_code == 302
