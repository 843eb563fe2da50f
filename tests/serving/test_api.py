"""The HTTP API through FastAPI's TestClient: every endpoint, the decision contract, routing,
explanations, limits, auth, and a clear 4xx for each kind of bad input (issue 3)."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest

from ticket_triage.core.errors import ConfigError
from ticket_triage.core.model import TriageModel
from ticket_triage.core.routing import Router
from ticket_triage.core.text import subject_of
from ticket_triage.serving import service as service_module
from ticket_triage.serving.settings import load_settings

from .conftest import TOKEN

PAYMENT = {
    "subject": "Payment failed!!!",
    "body": "Card declined with error 402 and the whole team is locked out. ASAP please",
    "metadata": {"product": "billing", "plan": "enterprise"},
}
CRASH = {"subject": "App crashes", "body": "Crash with E1234 on upload since the update."}


@pytest.fixture(scope="module")
def model(sample_model: Path) -> TriageModel:
    return TriageModel.load(sample_model)


def test_triage_matches_the_model_and_the_router(client, model) -> None:
    # GIVEN the API and the same artifact loaded directly
    router = Router.default(model.head_classes)
    # WHEN one ticket is triaged over HTTP
    response = client.post("/v1/triage", json=PAYMENT)
    # THEN the decision is the model's, routed by the default rules, with id and version
    assert response.status_code == 200
    body = response.json()
    expected = model.triage(PAYMENT)
    for head in ("urgency", "topic"):
        assert body[head]["label"] == expected[head].label
        assert body[head]["probabilities"] == pytest.approx(expected[head].probabilities)
        assert math.isclose(sum(body[head]["probabilities"].values()), 1.0, rel_tol=1e-9)
        assert body[head]["confidence"] == body[head]["probabilities"][body[head]["label"]]
        assert body[head]["needs_review"] == expected[head].needs_review
    labels = {head: expected[head].label for head in ("urgency", "topic")}
    route = router.route(labels, expected.needs_review, PAYMENT["metadata"])
    assert (body["queue"], body["queue_rule"]) == (route.queue, route.rule)
    assert body["needs_review"] == expected.needs_review
    assert body["model_version"] == model.version == response.headers["x-model-version"]
    assert len(body["id"]) == 32
    assert "explanation" not in body


def test_every_decision_gets_its_own_time_ordered_id(client) -> None:
    ids = [client.post("/v1/triage", json=CRASH).json()["id"] for _ in range(5)]
    assert len(set(ids)) == 5
    assert ids == sorted(ids) or len({i[:12] for i in ids}) == 1  # same millisecond: random tail


def test_explain_names_the_tickets_own_ngrams(client, model) -> None:
    body = client.post("/v1/triage?explain=true", json=PAYMENT).json()
    text = model.text_of(PAYMENT)
    assert set(body["explanation"]) == {"urgency", "topic"}
    for head, why in body["explanation"].items():
        assert why["label"] == body[head]["label"]
        assert why["versus"] != why["label"]
        assert 0 < len(why["contributions"]) <= 5
        for contribution in why["contributions"]:
            assert contribution["weight"] > 0
            assert any(_of_text(name, text) for name in contribution["ngrams"])


def _of_text(name: str, text: str) -> bool:
    """Whether an explanation's n-gram name comes from ``text``: a word n-gram as it is, a
    subject n-gram as ``subject:...``, a char n-gram as a fragment (``…ail…``, ``fa…``, ``‹ab›``).
    """
    if name.startswith("subject:"):
        return name.removeprefix("subject:") in subject_of(text)
    if name.startswith("‹") and name.endswith("›"):
        return name[1:-1] in text.split()
    if name.startswith("…") or name.endswith("…"):
        inner, words = name.strip("…"), text.split()
        if not name.startswith("…"):
            return any(word.startswith(inner) for word in words)
        if not name.endswith("…"):
            return any(word.endswith(inner) for word in words)
        return any(inner in word for word in words)
    return name in text


def test_batch_keeps_order_and_agrees_with_single_calls(client) -> None:
    tickets = [PAYMENT, CRASH, {"body": "Please add dark mode"}, {"body": "Reset my password"}]
    response = client.post("/v1/triage/batch", json={"tickets": tickets})
    assert response.status_code == 200
    results = response.json()["results"]
    assert len(results) == 4
    for ticket, result in zip(tickets, results, strict=True):
        single = client.post("/v1/triage", json=ticket).json()
        assert result["queue"] == single["queue"]
        for head in ("urgency", "topic"):
            assert result[head]["label"] == single[head]["label"]
            assert result[head]["probabilities"] == pytest.approx(single[head]["probabilities"])
    assert len({r["id"] for r in results}) == 4


def test_low_confidence_goes_to_the_review_queue(client, model) -> None:
    # GIVEN real sample tickets, some of which the model is not sure about
    import pandas as pd

    from ticket_triage.sample import SAMPLE_TICKETS

    sample = pd.read_csv(str(SAMPLE_TICKETS), dtype=str)
    tickets = [{"subject": s, "body": b} for s, b in zip(sample.subject, sample.body, strict=True)]
    results = model.triage_many(tickets[2000:2400])
    unsure = [
        t
        for t, r in zip(tickets[2000:2400], results, strict=True)
        if r.needs_review and r["urgency"].label != "high"
    ]
    assert unsure, "the sample model is never unsure: the review path is untested"
    # WHEN one of them is triaged over HTTP
    body = client.post("/v1/triage", json=unsure[0]).json()
    # THEN it is flagged and sent to review
    assert body["needs_review"] is True
    assert body["queue"] == "review"


def test_rules_file_overrides_the_default(make_client, tmp_path) -> None:
    rules = tmp_path / "rules.toml"
    rules.write_text(
        '[[rules]]\nname = "vip"\nqueue = "vip-{topic}"\n'
        'when = { metadata = { plan = "enterprise" } }\n\n'
        '[[rules]]\nname = "rest"\nqueue = "general"\n'
    )
    client = make_client(rules_file=rules)
    assert client.post("/v1/triage", json=PAYMENT).json()["queue_rule"] == "vip"
    assert client.post("/v1/triage", json=CRASH).json()["queue"] == "general"
    info = client.get("/v1/model").json()
    assert info["rules_source"] == str(rules)
    assert [r["name"] for r in info["rules"]] == ["vip", "rest"]
    assert "vip-billing" in info["queues"]
    assert "general" in info["queues"]


@pytest.mark.parametrize(
    ("rules", "named"),
    [
        ('[[rules]]\nname = "x"\nqueue = "q"\nwhen = { urgency = "urgent" }\n', "rule 'x'"),
        ('[[rules]]\nname = "only"\nqueue = "q"\nwhen = { topic = "bug" }\n', "catch-all"),
    ],
)
def test_bad_rules_file_keeps_the_service_unready(make_client, tmp_path, rules, named) -> None:
    path = tmp_path / "rules.toml"
    path.write_text(rules)
    client = make_client(rules_file=path)
    ready = client.get("/readyz")
    assert ready.status_code == 503
    assert named in ready.json()["detail"]
    assert str(path) in ready.json()["detail"]
    assert client.get("/healthz").status_code == 200
    assert client.post("/v1/triage", json=CRASH).status_code == 503


def test_model_endpoint_shows_classes_thresholds_and_rules(client, sample_model) -> None:
    info = client.get("/v1/model").json()
    meta = json.loads((sample_model / "model.json").read_text())
    assert info["model_version"] == meta["version"]
    for head in meta["heads"]:
        shown = info["heads"][head["name"]]
        assert shown["classes"] == head["classes"]
        assert shown["review_thresholds"] == pytest.approx(head["review"]["thresholds"])
    target = info["heads"]["urgency"]["target"]
    assert target["class"] == "high"
    assert target["min_precision"] == 0.85
    assert 0 < target["threshold"] < 1
    assert [r["name"] for r in info["rules"]] == ["priority", "review", "by-topic"]
    assert set(info["queues"]) == {"priority", "review", "account", "billing", "bug",
                                   "feature_request"}  # fmt: skip


def test_health_ready_and_docs(client) -> None:
    assert client.get("/healthz").json()["status"] == "ok"
    ready = client.get("/readyz").json()
    assert ready["ready"] is True
    assert ready["model_version"]
    assert client.get("/docs").status_code == 200
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/v1/triage", "/v1/triage/batch", "/v1/feedback", "/v1/model", "/readyz"} <= set(paths)


@pytest.mark.parametrize("damage", ["missing", "tampered", "truncated"])
def test_broken_artifact_is_not_ready_and_names_the_file(
    make_client, sample_model, tmp_path, damage
) -> None:
    import shutil

    broken = tmp_path / "model"
    shutil.copytree(sample_model, broken)
    if damage == "missing":
        (broken / "weights.npz").unlink()
    elif damage == "truncated":
        data = (broken / "weights.npz").read_bytes()
        (broken / "weights.npz").write_bytes(data[: len(data) // 2])
    else:
        with (broken / "weights.npz").open("r+b") as handle:
            handle.seek(100)
            handle.write(b"\x00\x01\x02")
    client = make_client(model_dir=broken)
    ready = client.get("/readyz")
    assert ready.status_code == 503
    assert "weights.npz" in ready.json()["detail"]
    response = client.post("/v1/triage", json=CRASH)
    assert response.status_code == 503
    assert "weights.npz" in response.json()["detail"]
    assert response.headers["x-model-version"] == "none"


def test_the_model_loads_once_per_process(make_client, monkeypatch) -> None:
    calls = []
    original = TriageModel.load.__func__

    def counting(cls, path):
        calls.append(path)
        return original(cls, path)

    monkeypatch.setattr(TriageModel, "load", classmethod(counting))
    client = make_client()
    for _ in range(3):
        client.post("/v1/triage", json=CRASH)
        client.post("/v1/triage/batch", json={"tickets": [CRASH, PAYMENT]})
    assert len(calls) == 1


# -- bad input: each gets a 4xx naming the field, never a 500 ----------------------------------

BIG = "x " * 20_000
CASES = [
    # name, request (json or raw bytes), status, field, message fragment
    ("empty text", {"subject": "", "body": ""}, 422, "body", "no text"),
    ("whitespace only", {"subject": "  ", "body": "\n\t "}, 422, "body", "no text"),
    ("only a URL", {"body": "https://example.com/x"}, 422, "body", "no text"),
    ("text over the cap", {"body": "y" * 40_000}, 422, "body", "TRIAGE_MAX_TEXT_BYTES"),
    ("missing body", {"subject": "hi"}, 422, "body", "Field required"),
    ("unknown field", {"body": "x", "metdata": {}}, 422, "metdata", "Extra inputs"),
    ("body not a string", {"body": 3}, 422, "body", "valid string"),
    ("subject is null", {"subject": None, "body": "x"}, 422, "subject", "valid string"),
    ("nested metadata", {"body": "x", "metadata": {"a": {"b": "c"}}}, 422, "metadata.a", "string"),
    ("numeric metadata", {"body": "x", "metadata": {"seats": 5}}, 422, "metadata.seats", "string"),
    ("metadata a list", {"body": "x", "metadata": ["a"]}, 422, "metadata", "dictionary"),
    ("huge metadata value", {"body": "x", "metadata": {"k": "v" * 300}}, 422, "metadata.k", "256"),
    (
        "too many metadata keys",
        {"body": "x", "metadata": {f"k{i}": "v" for i in range(40)}},
        422,
        "metadata",
        "32",
    ),
    ("not an object", [1, 2], 422, "request", "dictionary"),
    ("invalid JSON", b'{"body": ', 422, "request", "invalid JSON"),
    ("empty request", b"", 422, "request", "required"),
    ("invalid UTF-8", b'{"body": "\xff\xfe"}', 400, None, "UTF-8"),
    ("1 MB request", b'{"body": "' + b"z" * 1_000_000 + b'"}', 413, None, "TRIAGE_MAX_BODY_BYTES"),
]


@pytest.mark.parametrize(
    ("payload", "status", "field", "fragment"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_bad_ticket_gets_a_clear_4xx(client, payload, status, field, fragment) -> None:
    if isinstance(payload, bytes):
        response = client.post(
            "/v1/triage", content=payload, headers={"content-type": "application/json"}
        )
    else:
        response = client.post("/v1/triage", json=payload)
    assert response.status_code == status, response.text
    detail = response.json()["detail"]
    if field is None:
        assert fragment in detail
    else:
        assert any(p["field"] == field and fragment in p["msg"] for p in detail), detail
        assert all("input" not in p for p in detail)  # the ticket is never echoed back


@pytest.mark.parametrize(
    "ticket",
    [
        {"body": "NUL \x00 in the middle and \x07 bell"},
        {"body": "🔥🔥 app down!!! 🔥"},
        {"body": "مرحبا، الدفع فشل"},
        {"body": "<script>alert(1)</script><b>refund</b>"},
        {"subject": "x" * 1000, "body": BIG[:30_000]},
    ],
    ids=["control characters", "emoji", "right-to-left", "html and script", "near the cap"],
)
def test_odd_but_valid_text_is_triaged(client, ticket) -> None:
    response = client.post("/v1/triage", json=ticket)
    assert response.status_code == 200, response.text
    assert response.json()["queue"]


def test_wrong_content_type_is_415(client) -> None:
    response = client.post("/v1/triage", content="body=x", headers={"content-type": "text/plain"})
    assert response.status_code == 415
    assert "application/json" in response.json()["detail"]
    assert client.post("/v1/triage", data={"body": "x"}).status_code == 415


def test_body_without_length_is_stopped_at_the_limit(make_client) -> None:
    client = make_client(max_body_bytes=2048)

    def chunks():
        yield b'{"body": "'
        for _ in range(100):
            yield b"a" * 100
        yield b'"}'

    response = client.post(
        "/v1/triage", content=chunks(), headers={"content-type": "application/json"}
    )
    assert response.status_code == 413
    assert "2048" in response.json()["detail"]


def test_batch_limits(make_client) -> None:
    client = make_client(max_batch=3, max_batch_body_bytes=4096)
    many = client.post("/v1/triage/batch", json={"tickets": [CRASH] * 4})
    assert many.status_code == 422
    assert many.json()["detail"][0]["field"] == "tickets"
    assert "TRIAGE_MAX_BATCH" in many.json()["detail"][0]["msg"]
    big = client.post("/v1/triage/batch", json={"tickets": [{"body": "b" * 5000}]})
    assert big.status_code == 413
    assert "TRIAGE_MAX_BATCH_BODY_BYTES" in big.json()["detail"]
    empty = client.post("/v1/triage/batch", json={"tickets": []})
    assert empty.status_code == 422
    bad = client.post("/v1/triage/batch", json={"tickets": [CRASH, {"body": " "}, CRASH]})
    assert bad.status_code == 422
    assert bad.json()["detail"][0]["field"] == "tickets.1.body"
    typo = client.post("/v1/triage/batch", json={"tickets": [CRASH, {"bdy": "x"}]})
    assert {p["field"] for p in typo.json()["detail"]} == {"tickets.1.body", "tickets.1.bdy"}


def test_batch_explain(client) -> None:
    results = client.post(
        "/v1/triage/batch?explain=true", json={"tickets": [CRASH, PAYMENT]}
    ).json()["results"]
    assert all(set(r["explanation"]) == {"urgency", "topic"} for r in results)


# -- feedback and the bearer token --------------------------------------------------------------


def test_feedback_is_validated_against_the_model_and_queues(client) -> None:
    decision = client.post("/v1/triage", json=PAYMENT).json()
    ok = client.post("/v1/feedback", json={"id": decision["id"], "urgency": "normal"})
    assert ok.status_code == 201
    assert ok.json() == {"id": decision["id"], "stored": True, "model_version": ANY_VERSION}
    queue = client.post("/v1/feedback", json={"id": decision["id"], "queue": "priority"})
    assert queue.status_code == 201
    for body, field, fragment in [
        ({"id": decision["id"], "topic": "sales"}, "topic", "account, billing, bug"),
        ({"id": decision["id"], "urgency": "HIGH"}, "urgency", "high, low, normal"),
        ({"id": decision["id"], "queue": "nowhere"}, "queue", "priority"),
        ({"id": decision["id"]}, "urgency", "at least one"),
        ({"id": "not an id!", "topic": "bug"}, "id", "pattern"),
        ({"topic": "bug"}, "id", "required"),
        ({"id": decision["id"], "topic": "bug", "extra": "x"}, "extra", "Extra"),
    ]:
        response = client.post("/v1/feedback", json=body)
        assert response.status_code == 422, body
        assert any(p["field"] == field and fragment in p["msg"] for p in response.json()["detail"])


def test_the_same_feedback_twice_is_stored_once(client) -> None:
    decision = client.post("/v1/triage", json=CRASH).json()
    body = {"id": decision["id"], "topic": "bug", "agent": "sam"}
    first = client.post("/v1/feedback", json=body)
    again = client.post("/v1/feedback", json=body)
    assert (first.status_code, first.json()["stored"]) == (201, True)
    assert (again.status_code, again.json()["stored"]) == (200, False)


def test_feedback_for_an_unknown_prediction_is_404(client) -> None:
    response = client.post("/v1/feedback", json={"id": "0" * 32, "topic": "bug"})
    assert response.status_code == 404
    assert response.json()["detail"] == "id: no prediction '00000000000000000000000000000000'"


def test_feedback_without_a_database_is_503(make_client) -> None:
    client = make_client(database_url=None)
    decision = client.post("/v1/triage", json=CRASH).json()
    response = client.post("/v1/feedback", json={"id": decision["id"], "topic": "bug"})
    assert response.status_code == 503
    assert "TRIAGE_DATABASE_URL" in response.json()["detail"]


class _AnyVersion:
    def __eq__(self, other: object) -> bool:
        return isinstance(other, str) and len(other) > 0


ANY_VERSION = _AnyVersion()


def test_token_protects_feedback_but_not_triage(make_client) -> None:
    client = make_client(api_token=TOKEN)
    feedback = {"id": client.post("/v1/triage", json=CRASH).json()["id"], "topic": "bug"}
    missing = client.post("/v1/feedback", json=feedback)
    assert missing.status_code == 401
    assert missing.json()["detail"] == "missing bearer token"
    assert missing.headers["www-authenticate"] == "Bearer"
    wrong = client.post(
        "/v1/feedback", json=feedback, headers={"authorization": "Bearer not-the-token"}
    )
    assert wrong.status_code == 401
    assert wrong.json()["detail"] == "invalid bearer token"
    right = client.post("/v1/feedback", json=feedback, headers={"authorization": f"Bearer {TOKEN}"})
    assert right.status_code == 201
    assert client.post("/v1/triage", json=CRASH).status_code == 200


def test_protected_triage_needs_the_token(make_client) -> None:
    client = make_client(api_token=TOKEN, protect_triage=True)
    assert client.post("/v1/triage", json=CRASH).status_code == 401
    assert client.post("/v1/triage/batch", json={"tickets": [CRASH]}).status_code == 401
    auth = {"authorization": f"Bearer {TOKEN}"}
    assert client.post("/v1/triage", json=CRASH, headers=auth).status_code == 200
    assert client.get("/healthz").status_code == 200


def _secured(client: Any) -> dict[str, bool]:
    """Per ``/v1`` route, whether the served OpenAPI schema says it needs the bearer token."""
    paths = client.get("/openapi.json").json()["paths"]
    return {
        path: any("security" in operation for operation in operations.values())
        for path, operations in paths.items()
        if path.startswith("/v1")
    }


@pytest.mark.parametrize(
    ("overrides", "protected"),
    [
        ({}, set()),
        ({"api_token": TOKEN}, {"/v1/feedback", "/v1/admin/reload"}),
        (
            {"api_token": TOKEN, "protect_triage": True},
            {"/v1/feedback", "/v1/admin/reload", "/v1/triage", "/v1/triage/batch"},
        ),
    ],
)
def test_the_schema_asks_for_the_token_only_where_it_is_checked(
    make_client, overrides, protected
) -> None:
    """Clients and fuzzers read the schema: it must not call the token required where the
    service does not check it, nor document a 401 there."""
    client = make_client(**overrides)
    secured = _secured(client)
    assert {path for path, needs in secured.items() if needs} == protected
    paths = client.get("/openapi.json").json()["paths"]
    assert all(
        ("401" in operation["responses"]) == (path in protected)
        for path, operations in paths.items()
        if path.startswith("/v1")
        for operation in operations.values()
    )


def test_the_schema_lists_the_feedback_labels_of_the_loaded_model(client, model) -> None:
    properties = client.get("/openapi.json").json()["components"]["schemas"]["FeedbackIn"]
    properties = properties["properties"]
    for head, classes in model.head_classes.items():
        assert properties[head]["anyOf"][0]["enum"] == sorted(classes)
    queues = client.get("/v1/model").json()["queues"]
    assert properties["queue"]["anyOf"][0]["enum"] == sorted(queues)


@pytest.mark.parametrize(
    ("overrides", "fragment"),
    [
        ({"api_token": "short"}, "TRIAGE_API_TOKEN is shorter than 16"),
        ({"protect_triage": True}, "TRIAGE_PROTECT_TRIAGE is set but TRIAGE_API_TOKEN is not"),
        ({"max_batch": 0}, "TRIAGE_MAX_BATCH"),
    ],
)
def test_unsafe_settings_are_refused(tmp_path, overrides, fragment) -> None:
    with pytest.raises(ConfigError, match=fragment):
        load_settings(model_dir=tmp_path, **overrides)


def test_missing_model_dir_setting_names_the_variable(monkeypatch) -> None:
    monkeypatch.delenv("TRIAGE_MODEL_DIR", raising=False)
    with pytest.raises(ConfigError, match="TRIAGE_MODEL_DIR: Field required"):
        load_settings()


def test_settings_come_from_the_environment(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("TRIAGE_MODEL_DIR", str(tmp_path))
    monkeypatch.setenv("TRIAGE_MAX_BATCH", "7")
    monkeypatch.setenv("TRIAGE_API_TOKEN", TOKEN)
    settings = load_settings()
    assert (settings.model_dir, settings.max_batch) == (tmp_path, 7)
    assert settings.api_token is not None
    assert TOKEN not in repr(settings)  # the secret never shows in logs or tracebacks


def test_unexpected_failure_is_a_json_500_without_traceback(make_client, monkeypatch) -> None:
    client = make_client()

    def broken(*args, **kwargs):
        raise RuntimeError("boom: internal detail")

    monkeypatch.setattr(service_module.Service, "triage", broken)
    response = client.post("/v1/triage", json=CRASH)
    assert response.status_code == 500
    assert response.json() == {"detail": "internal error; the service logged it"}
    assert "boom" not in response.text
