import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from app.settings import Settings


@pytest.fixture(scope="session")
def client():
    return TestClient(create_app(Settings()))


def small_client(**limits) -> TestClient:
    """A client whose limits are tightened, to reach them with small inputs."""
    return TestClient(create_app(Settings(**limits)))
