"""template.yaml -> functions, routes, authorizer, MSK mappings, schedules."""

from __future__ import annotations

import pytest

from messenger_local.template import load_template

from .conftest import FIXTURE_TEMPLATE, REAL_TEMPLATE

pytestmark = pytest.mark.integration


def test_fixture_template_is_resolved() -> None:
    t = load_template(FIXTURE_TEMPLATE, {"Stage": "qa"})

    echo = t.functions["Echo"]
    assert echo.handler_file == FIXTURE_TEMPLATE.parent / "functions" / "echo" / "app.py"
    assert echo.handler_name == "lambda_handler"
    assert echo.timeout == 10
    assert echo.memory == 256
    assert echo.env["STAGE"] == "qa"  # Ref to a parameter, overridden
    assert echo.env["GREETING"] == "hello-qa-us-east-1"  # Sub with a pseudo parameter
    assert echo.env["ROUTE"] == "echo"  # function variables merged over the global ones
    assert t.functions["Misc"].timeout == 1

    routes = {r.route_key: r for r in t.routes}
    assert routes["GET /v1/items/{item_id}"].authorizer == "Api.FakeAuth"  # the default
    assert routes["POST /v1/echo"].authorizer is None  # Authorizer: NONE
    assert routes["ANY /v1/files/{path+}"].function == "Echo"
    auth = t.authorizers["Api.FakeAuth"]
    assert auth.function == "Authorizer"  # !GetAtt Authorizer.Arn
    assert auth.identity_headers == ("Authorization",)
    assert auth.simple_responses
    assert t.default_authorizer == auth

    (msk,) = t.msk_mappings
    assert msk.function == "Consumer"
    assert msk.topics == ("gw-events",)
    assert msk.consumer_group_id == "gw-consumer"
    assert msk.stream.startswith("arn:aws:kafka:")
    assert msk.starting_position == "TRIM_HORIZON"
    assert msk.batch_size == 50
    assert msk.has_on_failure_destination
    assert msk.function_response_types == ("ReportBatchItemFailures",)

    (schedule,) = t.schedules
    assert (schedule.function, schedule.expression) == ("Ticker", "rate(1 second)")


def test_unknown_parameter_is_rejected() -> None:
    with pytest.raises(ValueError, match="Nope"):
        load_template(FIXTURE_TEMPLATE, {"Nope": "x"})


def test_real_template_loads() -> None:
    """The project's template parses; every function's handler file exists."""
    t = load_template(REAL_TEMPLATE)
    assert t.routes
    assert t.functions
    for function in t.functions.values():
        assert function.handler_file.is_file(), function.logical_id
    for route in t.routes:
        assert route.function in t.functions
