"""Every route of the OpenAPI schema, driven by schemathesis with generated inputs (a
bounded number per route): no 5xx, every response matches its documented schema and
status codes, and input that violates the schema is rejected."""

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import negative_data_rejection, positive_data_acceptance

from deepviz.app.main import create_app
from deepviz.app.settings import Settings

app = create_app(Settings())
schema = schemathesis.openapi.from_asgi("/openapi.json", app)


@schemathesis.check
def bad_data_rejected(ctx, response, case):
    """negative_data_rejection, where 413 (the body limit, documented) counts as a rejection:
    JSON escapes can make a string within its maxLength larger than the body limit."""
    if response.status_code == 413:
        return True
    return negative_data_rejection(ctx, response, case)


@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
def test_every_route_answers_as_documented(case):
    # Not checked: that every schema-valid request is accepted. Some limits depend on what
    # the input means (an expression's node count, a kernel that does not fit the image)
    # and cannot be written in JSON Schema: those requests get a documented 422.
    case.call_and_validate(
        excluded_checks=[positive_data_acceptance, negative_data_rejection], additional_checks=[bad_data_rejected]
    )
