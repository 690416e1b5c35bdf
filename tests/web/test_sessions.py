"""Sign-up, sign-in, CSRF, the language switch and role checks, through the pages."""

from __future__ import annotations

from fastapi.testclient import TestClient

from biaodi.bootstrap import Platform
from factories import identity
from web_support import csrf_of, post_form, sign_in_as


def test_sign_up_with_a_bad_id_number_shows_the_error_next_to_the_field(
        client: TestClient) -> None:
    data = identity() | {"id_number": "110101199001011234", "role": "investor"}
    response = post_form(client, "/signup", data, token_from="/signup")
    assert response.status_code == 422
    assert 'data-field="id_number"' in response.text
    assert "请填写有效的 18 位居民身份证号" in response.text
    # the other answers stay in the form; the password is never echoed back
    assert f'value="{data["username"]}"' in response.text
    assert data["password"] not in response.text


def test_sign_up_signs_the_new_user_in(client: TestClient) -> None:
    data = identity() | {"role": "borrower"}
    response = post_form(client, "/signup", data, token_from="/signup", follow=True)
    assert response.status_code == 200
    assert data["username"] in response.text  # "当前用户：…" in the header
    again = post_form(client, "/signup", data | {"mobile": "13900000001"},
                      token_from="/signup")
    assert again.status_code == 422 and "已被注册" in again.text


def test_login_sets_an_http_only_same_site_cookie(client: TestClient,
                                                   platform: Platform) -> None:
    data = identity()
    from biaodi.services.accounts import users
    from biaodi.services.shared.tx import in_transaction
    in_transaction(platform.uow, lambda uow: users.register(
        uow, users.Register(**data), platform.cipher))
    wrong = post_form(client, "/login", {"username": data["username"], "password": "nope-1234"})
    assert wrong.status_code == 400 and "用户名或密码错误" in wrong.text
    response = post_form(client, "/login", {"username": data["username"],
                                            "password": data["password"],
                                            "next": "https://evil.example/"})
    assert response.status_code == 303
    assert response.headers["location"] == "/"  # never off-site
    cookies = response.headers.get_list("set-cookie")
    session = next(c for c in cookies if c.startswith("biaodi_session="))
    assert "HttpOnly" in session and "SameSite=lax" in session
    assert "Secure" not in session  # plain http in tests; https adds Secure
    assert data["username"] in client.get("/").text


def test_a_post_without_the_csrf_token_is_refused(client: TestClient,
                                                  platform: Platform) -> None:
    data = identity() | {"role": "investor"}
    csrf_of(client, "/signup")  # the browser holds a CSRF cookie, but the form lacks the token
    response = client.post("/signup", data=data)
    assert response.status_code == 403
    assert "表单校验失败" in response.text
    forged = client.post("/signup", data=data | {"csrf_token": "0" * 64})
    assert forged.status_code == 403
    sign_in_as(client, platform)
    assert client.post("/logout", data={}).status_code == 403


def test_the_language_switch_remembers_english(client: TestClient) -> None:
    assert "登录" in client.get("/login").text
    response = client.get("/lang/en", params={"next": "/login"}, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/login"
    page = client.get("/login")
    assert '<html lang="en">' in page.text and "Sign in" in page.text
    assert client.get("/lang/xx", follow_redirects=False).headers["location"] == "/"
    client.get("/lang/zh-CN")
    assert '<html lang="zh-CN">' in client.get("/login").text


def test_the_operator_console_refuses_an_investor(client: TestClient,
                                                  platform: Platform) -> None:
    anonymous = client.get("/operator", follow_redirects=False)
    assert anonymous.status_code == 303
    assert anonymous.headers["location"] == "/login?next=%2Foperator"
    sign_in_as(client, platform, "investor")
    refused = client.get("/operator")
    assert refused.status_code == 403 and "无权访问" in refused.text
    client.cookies.clear()
    sign_in_as(client, platform, "operator")
    assert client.get("/operator").status_code == 200


def test_logout_ends_the_session(client: TestClient, platform: Platform) -> None:
    data = sign_in_as(client, platform)
    token = client.cookies.get("biaodi_session")
    response = post_form(client, "/logout", {}, token_from="/")
    assert response.status_code == 303
    assert data["username"] not in client.get("/").text
    client.cookies.set("biaodi_session", token)  # the old cookie no longer signs anyone in
    assert data["username"] not in client.get("/").text


def test_unknown_pages_get_the_404_page_and_the_api_keeps_json(client: TestClient) -> None:
    page = client.get("/no-such-page")
    assert page.status_code == 404 and "页面不存在" in page.text
    api = client.get("/api/v1/no-such-thing")
    assert api.status_code == 404 and api.json()["error"]["code"] == "not_found"
