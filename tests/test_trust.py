"""Nothing but the profile decides where a signed request goes and whom it trusts.

The environment's proxy and CA variables are ignored (a recording proxy on loopback must
see nothing while the sandbox provider answers for real); the profile's proxy is really
used and shown; unusable CA bundles and proxies are configuration problems, never "the
session may or may not be closed".
"""

from __future__ import annotations

import json
import sqlite3
import ssl
from collections.abc import Iterator
from pathlib import Path

import pytest
import trustme

from support_tool.config.profiles import ProfileStore, make_profile
from support_tool.config.secret_store import KeyringSecrets
from support_tool.ops.runtime import open_runtime
from support_tool.sandbox import SandboxServer
from tests.conftest import SANDBOX_SECRET, CliProcessRunner, CliRunner
from tests.recording_proxy import RecordingProxy

pytestmark = pytest.mark.keyring  # uses the real Secret Service (conftest starts it)

UNKNOWN_LOGIN = "nobody-here"  # the real provider answers 17; a forger would say 0
PROXY_VARIABLES = ("HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy")
TLS_PROXY_VARIABLES = ("HTTPS_PROXY", "https_proxy")
CA_VARIABLES = ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "SSL_CERT_FILE")


@pytest.fixture(autouse=True)
def no_inherited_network_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test sets exactly the variables it is about (CI images set some of these)."""
    import os

    for name in list(os.environ):
        if name.lower().endswith("_proxy") or name in (*CA_VARIABLES, "SSL_CERT_DIR"):
            monkeypatch.delenv(name)


@pytest.fixture(scope="module")
def authority() -> trustme.CA:
    return trustme.CA()


@pytest.fixture(scope="module")
def rogue() -> trustme.CA:
    """The authority a local attacker would install through REQUESTS_CA_BUNDLE."""
    return trustme.CA()


def server_context(ca: trustme.CA) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("localhost", "127.0.0.1").configure_cert(context)
    return context


@pytest.fixture
def tls_sandbox(authority: trustme.CA) -> Iterator[SandboxServer]:
    with SandboxServer(secret=SANDBOX_SECRET, tls=server_context(authority)) as server:
        yield server


def pem(ca: trustme.CA, folder: Path, name: str) -> str:
    path = folder / name
    ca.cert_pem.write_to_path(str(path))
    return str(path)


def add_profile(cli: CliRunner, name: str, url: str, *extra: str) -> None:
    run = cli("profile", "add", name, "--url", url, "--timeout", "5", *extra)
    assert run.status == 0, run.text
    KeyringSecrets().set(name, SANDBOX_SECRET)


@pytest.fixture
def cleanup_secrets() -> Iterator[None]:
    yield
    for name in ("env", "via", "gone"):
        KeyringSecrets().delete(name)


def history_rows(home: Path) -> list[tuple[str, str]]:
    with sqlite3.connect(home / "history.sqlite3") as db:
        return db.execute("SELECT outcome, description FROM actions ORDER BY id").fetchall()


# --- the environment never redirects a request ----------------------------------------


@pytest.mark.parametrize("variable", PROXY_VARIABLES)
def test_a_proxy_variable_does_not_redirect_the_request(
    variable: str,
    cli: CliRunner,
    cli_process: CliProcessRunner,
    sandbox: SandboxServer,
    home: Path,
    cleanup_secrets: None,
) -> None:
    add_profile(cli, "env", sandbox.url)
    with RecordingProxy("forge") as proxy:
        run = cli_process("close", UNKNOWN_LOGIN, "--json", env={variable: proxy.url})
    answer = json.loads(run.out)
    assert proxy.received == []  # not even the connection reached it
    assert len(sandbox.received) == 1
    assert (run.status, answer["outcome"], answer["error"]) == (1, "refused", 17), run.text
    assert history_rows(home) == [("refused", "Player not found")]


@pytest.mark.parametrize("variable", TLS_PROXY_VARIABLES)
def test_an_https_proxy_variable_and_a_rogue_ca_cannot_intercept(
    variable: str,
    cli: CliRunner,
    cli_process: CliProcessRunner,
    tls_sandbox: SandboxServer,
    authority: trustme.CA,
    rogue: trustme.CA,
    tmp_path: Path,
    home: Path,
    cleanup_secrets: None,
) -> None:
    """The attack in full: a proxy that decrypts with a certificate from an authority
    planted in REQUESTS_CA_BUNDLE, answering a forged success."""
    add_profile(cli, "env", tls_sandbox.url, "--ca-bundle", pem(authority, tmp_path, "ca.pem"))
    planted = pem(rogue, tmp_path, "rogue.pem")
    with RecordingProxy("forge", mitm=server_context(rogue)) as proxy:
        env = {variable: proxy.url, "REQUESTS_CA_BUNDLE": planted, "CURL_CA_BUNDLE": planted}
        run = cli_process("close", UNKNOWN_LOGIN, "--json", env=env)
    assert proxy.received == []
    assert len(tls_sandbox.received) == 1
    assert json.loads(run.out)["error"] == 17, run.text
    assert run.status == 1


@pytest.mark.parametrize("variable", CA_VARIABLES)
def test_a_ca_variable_does_not_replace_the_trust_store(
    variable: str,
    cli: CliRunner,
    cli_process: CliProcessRunner,
    rogue: trustme.CA,
    tmp_path: Path,
    home: Path,
    cleanup_secrets: None,
) -> None:
    """A server whose certificate comes from an authority named only in the environment
    is not trusted: nothing is sent to it."""
    with SandboxServer(secret=SANDBOX_SECRET, tls=server_context(rogue)) as impostor:
        add_profile(cli, "env", impostor.url)
        env = {variable: pem(rogue, tmp_path, "rogue.pem")}
        run = cli_process("close", UNKNOWN_LOGIN, "--json", env=env)
        assert len(impostor.received) == 0
    answer = json.loads(run.out)
    assert (run.status, answer["outcome"]) == (3, "transport_failure"), run.text
    assert "certificate could not be verified" in answer["description"]


# --- the profile's proxy is the one used, and it is shown ------------------------------


def test_the_profiles_proxy_carries_the_request_and_details_show_it(
    cli: CliRunner,
    sandbox: SandboxServer,
    home: Path,
    monkeypatch: pytest.MonkeyPatch,
    cleanup_secrets: None,
) -> None:
    from support_tool.gui.answer_panel import details_text

    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")  # must not bypass the profile's
    with RecordingProxy("forward") as proxy:
        add_profile(cli, "via", sandbox.url, "--proxy", proxy.url)
        with open_runtime() as runtime:
            closed = runtime.service.close("terminal-0001", profile="via")
    assert closed.result.ok, closed.result
    assert [(a.method, a.target.split("?")[0]) for a in proxy.received] == [
        ("POST", f"{sandbox.url}/V4/closesession")
    ]
    assert len(sandbox.received) == 1
    assert f"Proxy: {proxy.url}" in details_text(closed)
    listing = cli("profile", "list", "--json")
    assert json.loads(listing.out)[0]["proxy"] == proxy.url
    assert f"proxy {proxy.url}" in cli("profile", "list").out


def test_the_profiles_proxy_tunnels_tls_to_the_provider(
    cli: CliRunner,
    tls_sandbox: SandboxServer,
    authority: trustme.CA,
    tmp_path: Path,
    home: Path,
    cleanup_secrets: None,
) -> None:
    with RecordingProxy("forward") as proxy:
        bundle = pem(authority, tmp_path, "ca.pem")
        add_profile(cli, "via", tls_sandbox.url, "--proxy", proxy.url, "--ca-bundle", bundle)
        run = cli("close", "terminal-0001", "--json")
    assert run.status == 0, run.text
    assert [a.method for a in proxy.received] == ["CONNECT"]  # the proxy saw only the host
    assert proxy.received[0].target == f"localhost:{tls_sandbox.port}"
    assert len(tls_sandbox.received) == 1


def test_a_direct_request_says_so_in_details(
    sandbox_profile: str, sandbox: SandboxServer, home: Path
) -> None:
    from support_tool.gui.answer_panel import details_text

    with open_runtime() as runtime:
        closed = runtime.service.close("terminal-0001")
    assert "Proxy: none (direct connection)" in details_text(closed)


# --- ignored variables are named -------------------------------------------------------


def test_profile_list_names_the_ignored_variables(
    cli_process: CliProcessRunner,
) -> None:
    env = {
        "HTTPS_PROXY": "http://10.0.0.1:3128",
        "REQUESTS_CA_BUNDLE": "",
        "CURL_CA_BUNDLE": "x",
        "SSL_CERT_DIR": "/etc/ssl/certs",
    }
    for args in (("profile", "list"), ("profile", "list", "--json")):
        run = cli_process(*args, env=env)
        assert run.status == 0
        assert (
            "HTTPS_PROXY is set in the environment and ignored: support-tool uses only the "
            "profile's proxy." in run.err
        )
        assert (
            "CURL_CA_BUNDLE and SSL_CERT_DIR are set in the environment and ignored: "
            "support-tool trusts only its own list of authorities" in run.err
        )
        assert "REQUESTS_CA_BUNDLE" not in run.err  # empty: not set
    assert json.loads(run.out) == []  # the JSON on standard output stays clean


def test_nothing_is_named_when_nothing_is_set() -> None:
    from support_tool.provider.environment import environment_notices

    assert environment_notices({"PATH": "/usr/bin", "no_proxy": ""}) == []
    assert environment_notices({"all_proxy": "socks5://x"}) == [
        "all_proxy is set in the environment and ignored: support-tool uses only the "
        "profile's proxy."
    ]


# --- unusable settings are configuration problems ----------------------------------------


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (("--proxy", "socks5://127.0.0.1:1080"), "socks5:// is not supported"),
        (("--proxy", "proxy.example:3128"), "http://host:port"),
        (("--proxy", "http://user:pw@proxy.example:3128"), "user name or password"),
        (("--proxy", "http://[::1"), "not a valid address"),
        (("--proxy", "http://proxy.example:0"), "between 1 and 65535"),
        (("--proxy", "http://proxy.example/path"), "only a scheme, host and port"),
        (("--ca-bundle", "NOT-PEM"), "not a PEM file"),
        (("--ca-bundle", "EMPTY-PEM"), "no usable certificate"),
    ],
)
def test_profile_add_refuses_unusable_proxy_and_ca_bundle(
    args: tuple[str, str],
    words: str,
    cli_process: CliProcessRunner,
    tmp_path: Path,
) -> None:
    (tmp_path / "NOT-PEM").write_bytes(b"\x00\x01 this is a DER blob, not PEM")
    (tmp_path / "EMPTY-PEM").write_text(
        "-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydA==\n-----END CERTIFICATE-----\n"
    )
    value = str(tmp_path / args[1]) if args[0] == "--ca-bundle" else args[1]
    run = cli_process("profile", "add", "z", "--url", "https://api.example.com", args[0], value)
    assert run.status == 2, run.text
    assert words in run.err
    assert "Traceback" not in run.text


def test_a_plain_http_api_url_may_not_leave_through_a_remote_proxy(cli: CliRunner) -> None:
    run = cli(
        "profile", "add", "z", "--url", "http://127.0.0.1:8765", "--proxy", "http://p.example:3128"
    )
    assert run.status == 2
    assert "in clear" in run.err


@pytest.mark.parametrize("damage", ["removed", "not pem"])
def test_a_ca_bundle_that_became_unusable_is_a_configuration_problem(
    damage: str,
    cli: CliRunner,
    cli_process: CliProcessRunner,
    tls_sandbox: SandboxServer,
    authority: trustme.CA,
    tmp_path: Path,
    home: Path,
    cleanup_secrets: None,
) -> None:
    bundle = pem(authority, tmp_path, "ca.pem")
    add_profile(cli, "gone", tls_sandbox.url, "--ca-bundle", bundle)
    if damage == "removed":
        Path(bundle).unlink()
    else:
        Path(bundle).write_text("the provider's CA, pasted from an e-mail\n")
    run = cli_process("close", "terminal-0001", "--json")
    answer = json.loads(run.out)
    assert (run.status, answer["outcome"]) == (4, "configuration_error"), run.text
    assert "CA bundle of profile 'gone' cannot be used" in answer["description"]
    assert "may or may not" not in run.text
    assert len(tls_sandbox.received) == 0
    assert history_rows(home) == [("configuration_error", answer["description"])]
    assert "gone" in cli("profile", "list").out  # the other profiles stay usable


def test_a_proxy_broken_by_hand_in_the_profile_file_is_a_configuration_problem(
    cli_process: CliProcessRunner,
    sandbox: SandboxServer,
    home: Path,
) -> None:
    store = ProfileStore()
    store.save(store.load().with_profile(make_profile("gone", sandbox.url), make_default=True))
    text = (home / "profiles.toml").read_text()
    (home / "profiles.toml").write_text(text.replace('proxy = ""', 'proxy = "ftp://p:21"'))
    run = cli_process("close", "terminal-0001", "--json")
    answer = json.loads(run.out)
    assert (run.status, answer["outcome"]) == (4, "configuration_error"), run.text
    assert "ftp:// is not supported" in answer["description"]
    assert len(sandbox.received) == 0
    assert [row[0] for row in history_rows(home)] == ["configuration_error"]


def test_a_proxy_that_is_not_running_is_reported_as_the_proxy(
    cli: CliRunner,
    sandbox: SandboxServer,
    home: Path,
    cleanup_secrets: None,
) -> None:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    add_profile(cli, "via", sandbox.url, "--proxy", f"http://127.0.0.1:{port}")
    run = cli("close", "terminal-0001", "--json")
    answer = json.loads(run.out)
    assert run.status == 3
    assert f"through the profile's proxy http://127.0.0.1:{port}" in answer["description"]
    assert "Nothing was sent" in answer["description"]
    assert len(sandbox.received) == 0


def test_netrc_credentials_are_never_sent(
    cli: CliRunner,
    cli_process: CliProcessRunner,
    sandbox: SandboxServer,
    tmp_path: Path,
    cleanup_secrets: None,
) -> None:
    netrc = tmp_path / "netrc"
    netrc.write_text("machine 127.0.0.1 login operator password hunter2\n")
    netrc.chmod(0o600)
    add_profile(cli, "env", sandbox.url)
    run = cli_process("close", "terminal-0001", env={"NETRC": str(netrc), "HOME": str(tmp_path)})
    assert run.status == 0, run.text
    assert [r.headers.get("Authorization") for r in sandbox.received] == [None]
