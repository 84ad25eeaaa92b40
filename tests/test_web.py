"""The web app on a real server on loopback: pages, the JSON API, errors, caching."""

import hashlib
import http.client
import json
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from importlib.resources import as_file, files
from pathlib import Path

import httpx
import pytest
import schemathesis
import uvicorn
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings

from payerbrief.brief.build import build_brief
from payerbrief.cli import main
from payerbrief.facts.reference import Reference
from payerbrief.ingest import ingest
from payerbrief.render import render_csv, render_json, render_markdown
from payerbrief.store.readonly import NoWarehouseError
from payerbrief.store.warehouse import Warehouse
from payerbrief.web.app import create_app
from payerbrief.web.server import listen
from payerbrief.web.state import load_state

BUNDLED = files("payerbrief") / "data" / "demo"


def boom() -> None:
    raise RuntimeError("a fault injected by the test")


@pytest.fixture(scope="module")
def base_url(demo_home: Path) -> Iterator[str]:
    """The app over the demo warehouse, served by uvicorn in a thread."""
    state = load_state(demo_home)
    _ = state.catalog  # built before serving, as `payerbrief serve` does
    app = create_app(state)
    # Routes that fail, to see the 500 answers; kept out of the OpenAPI document.
    app.add_api_route("/api/boom", boom, include_in_schema=False)
    app.add_api_route("/boom.html", boom, include_in_schema=False)
    sock = listen("127.0.0.1", 0)
    server = uvicorn.Server(
        uvicorn.Config(app, log_config=None, access_log=False, lifespan="off")
    )
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]})
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    server.should_exit = True
    thread.join(10)


@pytest.fixture(scope="module")
def client(base_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=base_url, timeout=60) as session:
        yield session


def error_of(response: httpx.Response) -> dict[str, object]:
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"status", "message", "hint", "parameter"}
    assert body["error"]["status"] == response.status_code
    return body["error"]


# Pages


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/index.html",
        "/codes/99213.html",
        "/codes/99213",
        "/families/index.html",
        "/families/cpt-evaluation-and-management.html",
        "/payers/index.html",
        "/payers/medicare.html",
        "/sources.html",
    ],
)
def test_the_site_pages_are_served(client: httpx.Client, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert response.text.startswith("<!doctype html>")


def test_a_code_page_is_the_static_sites_page(
    client: httpx.Client, reference: Reference
) -> None:
    text = client.get("/codes/99213.html").text
    assert "<h1>99213: Office o/p est low 20 min</h1>" in text
    assert '<link rel="stylesheet" href="../assets/style.css">' in text
    assert '<a href="../codes/99212.html">99212</a>' in text
    assert '<a href="99213.csv" download>' in text


@pytest.mark.parametrize(
    ("suffix", "media_type", "render"),
    [
        ("md", "text/markdown; charset=utf-8", render_markdown),
        ("json", "application/json", render_json),
        ("csv", "text/csv; charset=utf-8", render_csv),
    ],
)
def test_the_downloads_are_served(
    client: httpx.Client, reference: Reference, suffix: str, media_type: str, render
) -> None:
    response = client.get(f"/codes/70553.{suffix}")
    assert response.status_code == 200
    assert response.headers["content-type"] == media_type
    assert response.text == render(build_brief(reference, reference.resolve("70553")))


def test_the_assets_are_served(client: httpx.Client) -> None:
    css = client.get("/assets/style.css")
    assert css.headers["content-type"] == "text/css; charset=utf-8"
    index = client.get("/assets/search-index.js")
    assert index.headers["content-type"] == "text/javascript; charset=utf-8"
    assert index.text.startswith("window.PAYERBRIEF_INDEX = {")
    assert '"99213","99213: Office o/p est low 20 min"' in index.text


def test_an_unknown_code_page_suggests_the_closest_codes(client: httpx.Client) -> None:
    response = client.get("/codes/99999.html")
    assert response.status_code == 404
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert "<h1>No brief for 99999</h1>" in response.text
    assert '<a href="../codes/99601.html">99601</a>' in response.text
    assert '<form class="search" role="search"' in response.text


def test_a_malformed_code_page_says_what_codes_look_like(client: httpx.Client) -> None:
    response = client.get("/codes/not-a-code.html")
    assert response.status_code == 404
    assert "not-a-code is not a billing code." in response.text
    assert "Category II is four digits and F (3372F)" in response.text


def test_markup_in_the_address_is_escaped(client: httpx.Client) -> None:
    response = client.get("/codes/%22%3E%3Cimg%20src=x%20onerror=alert(1)%3E.html")
    assert response.status_code == 404
    assert "<img" not in response.text
    assert "&#34;&gt;&lt;img src=x onerror=alert(1)&gt; is not a billing code" in (
        response.text
    )


@pytest.mark.parametrize(
    "path",
    [
        "/assets/..%2f..%2fpyproject.toml",
        "/assets/%2e%2e/%2e%2e/pyproject.toml",
        "/assets/../../../../etc/passwd",
        "/assets/..%2F..%2F..%2F..%2Fetc%2Fpasswd",
        "/assets/%2e%2e%2f%2e%2e%2fcatalog.duckdb",
        "/assets/....//....//etc/passwd",
        "/codes/..%2f..%2fpyproject.toml",
        "/codes/%2e%2e%2fcatalog.duckdb",
        "/families/..%2f..%2fREADME.md",
        "/payers/..%5c..%5cREADME.md",
        "/..%2f..%2fetc%2fpasswd",
        "/static/../../etc/passwd",
    ],
)
def test_no_path_reaches_another_file(base_url: str, path: str) -> None:
    # http.client sends the path exactly as written, dots and escapes included.
    host, port = base_url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=10)
    connection.request("GET", path)
    response = connection.getresponse()
    body = response.read().decode("utf-8", "replace")
    connection.close()
    assert response.status == 404
    for secret in ("root:x:0:0", "[project]", "# payerbrief", "DUCK"):
        assert secret not in body


def test_an_unknown_page_is_the_not_found_page(client: httpx.Client) -> None:
    response = client.get("/a/b/nothing.html")
    assert response.status_code == 404
    assert "No page has that address." in response.text
    assert 'href="../../families/index.html"' in response.text


def test_a_failing_page_answers_500(client: httpx.Client) -> None:
    response = client.get("/boom.html")
    assert response.status_code == 500
    assert "<h1>Server error</h1>" in response.text
    assert response.headers["cache-control"] == "no-store"


# The JSON API


def test_a_codes_facts_are_the_json_renderers_data(
    client: httpx.Client, reference: Reference
) -> None:
    response = client.get("/api/codes/99213")
    assert response.status_code == 200
    expected = json.loads(
        render_json(build_brief(reference, reference.resolve("99213")))
    )
    assert response.json() == expected


def test_an_unknown_code_is_a_json_404(client: httpx.Client) -> None:
    response = client.get("/api/codes/99999")
    assert response.status_code == 404
    assert error_of(response) == {
        "status": 404,
        "message": "code 99999 is in none of the loaded code sets (Medicare "
        "Physician Fee Schedule RVU25D, HCPCS Level II 2020)",
        "hint": "closest codes: 99601, 99602, 99605, 99606, 99607",
        "parameter": "code",
    }


def test_a_malformed_code_is_a_422_naming_the_parameter(client: httpx.Client) -> None:
    response = client.get("/api/codes/ZZ123/rates")
    assert response.status_code == 422
    error = error_of(response)
    assert error["message"] == "'ZZ123' is not a billing code"
    assert error["parameter"] == "code"
    assert str(error["hint"]).startswith("a CPT Category I code is five digits")


def rates(client: httpx.Client, code: str, **params: object) -> dict:
    response = client.get(f"/api/codes/{code}/rates", params=params)
    assert response.status_code == 200, response.text
    return response.json()


def test_rates_are_medicare_national_and_locality_rows(client: httpx.Client) -> None:
    data = rates(client, "99213", page_size=500)
    # National: one part in two settings; then 109 localities in two settings.
    assert data["total"] == 2 + 109 * 2 == len(data["rows"])
    first = data["rows"][0]
    assert first == {
        "payer": "Medicare",
        "rate_type": "fee schedule",
        "plan": None,
        "provider_group": None,
        "billing_class": "professional",
        "setting": "non-facility",
        "places_of_service": None,
        "modifiers": [],
        "part": "global",
        "area": {
            "kind": "national",
            "id": "national",
            "name": "National",
            "state": None,
        },
        "amount": 88.95,
        "currency": "USD",
        "sources": ["pfs-rvu-8af460f38bf982b7"],
    }
    alaska = [r for r in data["rows"] if r["area"]["state"] == "AK"]
    assert [r["amount"] for r in alaska] == [112.20, 84.92]
    assert {s["load_id"] for s in data["sources"]} >= {
        s for r in data["rows"] for s in r["sources"]
    }
    coverage = {c["payer"]: c for c in data["coverage"]}
    assert coverage["Medicare"] == {
        "payer": "Medicare",
        "state": "present",
        "reason": None,
        "listed": True,
    }
    assert coverage["Cigna"]["state"] == "not available"
    assert coverage["Cigna"]["reason"] == "No Cigna in-network file loaded covers 99213"


def test_rates_have_26_and_tc_parts_with_their_modifiers(client: httpx.Client) -> None:
    national = [
        r
        for r in rates(client, "71046", page_size=10)["rows"]
        if r["area"]["kind"] == "national"
    ]
    assert [
        (r["part"], r["modifiers"], r["setting"], r["amount"]) for r in national
    ] == [
        ("global", [], "non-facility", 32.67),
        ("global", [], "facility", None),
        ("professional (26)", ["26"], "non-facility", 10.03),
        ("professional (26)", ["26"], "facility", 10.03),
        ("technical (TC)", ["TC"], "non-facility", 22.64),
        ("technical (TC)", ["TC"], "facility", None),
    ]


def test_rates_page_through_the_rows(client: httpx.Client) -> None:
    pages = [rates(client, "99213", page=n, page_size=100) for n in (1, 2, 3, 4)]
    assert [len(p["rows"]) for p in pages] == [100, 100, 20, 0]
    assert {p["pages"] for p in pages} == {3}
    everything = rates(client, "99213", page_size=500)["rows"]
    assert [r for p in pages for r in p["rows"]] == everything


def test_rates_filter_by_place_of_service_setting(client: httpx.Client) -> None:
    office = rates(client, "99213", place_of_service="11", page_size=500)
    assert office["filters"]["setting"] == "non-facility"
    assert office["total"] == 110
    assert {r["setting"] for r in office["rows"]} == {"non-facility"}
    hospital = rates(client, "99213", place_of_service="21", page_size=1)
    assert hospital["filters"]["setting"] == "facility"
    assert hospital["rows"][0]["amount"] == 63.72


def test_rates_filter_by_payer_and_billing_class(client: httpx.Client) -> None:
    assert rates(client, "99213", payer="Medicare")["total"] == 220
    aetna = rates(client, "99213", payer="Aetna")
    assert aetna["total"] == 0 and aetna["rows"] == []
    assert rates(client, "99213", billing_class="institutional")["total"] == 0
    assert rates(client, "99213", billing_class="professional")["total"] == 220


def test_a_code_without_medicare_amounts_has_no_rows(client: httpx.Client) -> None:
    data = rates(client, "3372F")
    assert data["total"] == 0
    assert data["coverage"][0]["state"] == "not applicable"
    assert data["coverage"][0]["reason"].startswith("3372F is a CPT Category II")


@pytest.mark.parametrize(
    ("query", "parameter", "message"),
    [
        ("page=0", "page", "page: Input should be greater than or equal to 1"),
        (
            "page=x",
            "page",
            "page: Input should be a valid integer, unable to parse "
            "string as an integer",
        ),
        (
            "page_size=501",
            "page_size",
            "page_size: Input should be less than or equal to 500",
        ),
        (
            "payer=aetna",
            "payer",
            "payer: Input should be 'Medicare', 'Aetna', 'Blue "
            "Cross Blue Shield', 'Cigna' or 'UnitedHealthcare'",
        ),
        (
            "billing_class=both",
            "billing_class",
            "billing_class: Input should be 'professional' or 'institutional'",
        ),
        (
            "place_of_service=1",
            "place_of_service",
            "place_of_service: String should match pattern '^[0-9]{2}$'",
        ),
        (
            "place_of_service=98",
            "place_of_service",
            "place_of_service: 98 is not in the loaded place-of-service code set",
        ),
    ],
)
def test_bad_rate_parameters_are_422_naming_the_parameter(
    client: httpx.Client, query: str, parameter: str, message: str
) -> None:
    response = client.get(f"/api/codes/99213/rates?{query}")
    assert response.status_code == 422
    error = error_of(response)
    assert error["parameter"] == parameter
    assert error["message"] == message
    assert error["hint"]


def test_search_finds_codes_and_words(client: httpx.Client) -> None:
    data = client.get("/api/search", params={"q": "99213", "limit": 1}).json()
    assert data["total"] >= 1
    assert data["results"] == [
        {
            "code": "99213",
            "title": "99213: Office o/p est low 20 min",
            "family": "CPT Category I: Evaluation and Management",
            "url": "/codes/99213.html",
        }
    ]
    words = client.get("/api/search", params={"q": "wellness visit"}).json()
    assert "G0439" in [r["code"] for r in words["results"]]


@pytest.mark.parametrize(
    ("query", "parameter"), [("", "q"), ("q=", "q"), ("q=x&limit=101", "limit")]
)
def test_bad_search_parameters_are_422(
    client: httpx.Client, query: str, parameter: str
) -> None:
    response = client.get(f"/api/search?{query}")
    assert response.status_code == 422
    assert error_of(response)["parameter"] == parameter


def test_sources_are_the_manifest(client: httpx.Client, demo_home: Path) -> None:
    with Warehouse(demo_home) as warehouse:
        entries = warehouse.entries()
    data = client.get("/api/sources").json()
    assert [s["load_id"] for s in data["sources"]] == [e.load_id for e in entries]
    used = {s["file_name"]: s["used"] for s in data["sources"]}
    assert used["PPRRVU2025_Oct.csv"] is True and used["PPRRVU25_JAN1.csv"] is False


def test_an_unknown_endpoint_is_a_json_404(client: httpx.Client) -> None:
    response = client.get("/api/nothing")
    assert response.status_code == 404
    assert error_of(response)["message"] == "no such API endpoint"


def test_a_failing_endpoint_answers_500_in_the_error_shape(
    client: httpx.Client,
) -> None:
    response = client.get("/api/boom")
    assert response.status_code == 500
    assert response.headers["connection"] == "close"
    assert error_of(response)["message"] == "the server failed to answer this request"


def test_the_openapi_document_describes_the_api(client: httpx.Client) -> None:
    doc = client.get("/openapi.json").json()
    assert set(doc["paths"]) == {
        "/api/codes/{code}",
        "/api/codes/{code}/rates",
        "/api/search",
        "/api/sources",
    }
    rates_doc = doc["paths"]["/api/codes/{code}/rates"]["get"]
    assert {p["name"] for p in rates_doc["parameters"]} == {
        "code",
        "payer",
        "billing_class",
        "place_of_service",
        "page",
        "page_size",
    }
    error = {"$ref": "#/components/schemas/ErrorBody"}
    for status in ("404", "422"):
        assert (
            rates_doc["responses"][status]["content"]["application/json"]["schema"]
            == error
        )


# Caching


def test_responses_carry_the_data_version_as_validator(client: httpx.Client) -> None:
    first = client.get("/api/codes/99213")
    etag = first.headers["etag"]
    assert etag.startswith('W/"')
    assert first.headers["cache-control"] == "public, max-age=300"
    assert first.headers["last-modified"].endswith(" GMT")
    assert client.get("/codes/99213.html").headers["etag"] == etag
    again = client.get("/api/codes/99213", headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == etag
    stale = client.get("/api/codes/99213", headers={"If-None-Match": 'W/"old"'})
    assert stale.status_code == 200


def test_errors_are_not_cached(client: httpx.Client) -> None:
    response = client.get("/api/codes/99999")
    assert response.headers["cache-control"] == "no-store"
    assert "etag" not in response.headers


def test_pages_may_load_only_their_own_assets(client: httpx.Client) -> None:
    policy = client.get("/").headers["content-security-policy"]
    assert "default-src 'self'" in policy and "script-src 'self'" in policy


# Schemathesis: generated requests against the OpenAPI document, bounded.


def test_the_api_keeps_to_its_openapi_document(base_url: str) -> None:
    schema = schemathesis.openapi.from_url(f"{base_url}/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == 4
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=10,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def conforms(case: schemathesis.Case) -> None:
            case.call_and_validate()

        conforms()


# Read-only and the command


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_the_app_reads_the_warehouse_read_only(demo_home: Path) -> None:
    catalog = demo_home / "catalog.duckdb"
    before = digest(catalog)
    state = load_state(demo_home)
    assert digest(catalog) == before
    assert len(state.ref.known_codes()) > 19_000
    assert state.places["11"].facility is False and state.places["21"].facility


def test_a_missing_warehouse_says_how_to_make_one(tmp_path: Path) -> None:
    with pytest.raises(NoWarehouseError) as caught:
        load_state(tmp_path / "nowhere")
    assert str(caught.value) == (
        f"no warehouse in {tmp_path / 'nowhere'}\n"
        "Hint: run `payerbrief demo` or `payerbrief ingest` first, or pass --home"
    )


def run(home: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["--home", str(home), *args])
    return result.exit_code, result.stdout, result.stderr


def test_serve_without_the_web_extra_says_how_to_install_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "uvicorn", None)
    code, _, err = run(tmp_path, "serve")
    assert code == 1
    assert err == (
        "Error: the web app needs FastAPI and uvicorn, which are not installed\n"
        "Hint: install the web extra: pip install 'payerbrief[web]'\n"
    )


def test_serve_on_a_busy_port_says_so(demo_home: Path) -> None:
    busy = listen("127.0.0.1", 0)
    port = busy.getsockname()[1]
    try:
        code, _, err = run(demo_home, "serve", "--port", str(port))
    finally:
        busy.close()
    assert code == 1
    assert err == (
        f"Error: cannot listen on 127.0.0.1:{port}: Address already in use\n"
        "Hint: choose another --port, or stop what is using this one\n"
    )


def test_serve_has_help(tmp_path: Path) -> None:
    code, out, _ = run(tmp_path, "serve", "--help")
    assert code == 0
    assert "--host TEXT" in out and "--port INTEGER RANGE" in out


def test_the_serve_command_serves(tmp_path: Path) -> None:
    # A warehouse with the fee schedule only, so the server starts quickly.
    with (
        Warehouse(tmp_path) as warehouse,
        as_file(BUNDLED / "PPRRVU2025_Oct.csv") as rvu,
    ):
        ingest(warehouse, "pfs-rvu", [rvu])
    command = [str(Path(sys.executable).parent / "payerbrief"), "--home", str(tmp_path)]
    server = subprocess.Popen(
        [*command, "serve", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        line = server.stdout.readline()
        assert line.startswith(f"Serving {tmp_path} at http://127.0.0.1:")
        url = line.split(" at ")[1].split()[0]
        response = httpx.get(url + "api/codes/99213", timeout=30)
        assert response.status_code == 200
        assert response.json()["code"] == "99213"
    finally:
        server.terminate()
        server.wait(20)


def test_the_listening_socket_lets_asyncio_turn_off_nagle() -> None:
    # asyncio sets TCP_NODELAY only on sockets whose proto is IPPROTO_TCP;
    # without it each reused connection waits for a delayed ACK (~40 ms).
    sock = listen("127.0.0.1", 0)
    try:
        assert sock.proto == socket.IPPROTO_TCP
    finally:
        sock.close()
