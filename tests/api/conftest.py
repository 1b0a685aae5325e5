import base64
import io

import pytest
from fastapi.testclient import TestClient
from PIL import Image

from deepviz.app.main import create_app
from deepviz.app.settings import Settings


@pytest.fixture(scope="session")
def client():
    return TestClient(create_app(Settings()))


def small_client(**limits) -> TestClient:
    """A client whose limits are tightened, to reach them with small inputs."""
    return TestClient(create_app(Settings(**limits)))


def data_url(img: Image.Image, fmt: str = "PNG") -> str:
    """An image as the pages send it: a base64 data URL."""
    buffer = io.BytesIO()
    img.save(buffer, format=fmt)
    return f"data:image/{fmt.lower()};base64," + base64.b64encode(buffer.getvalue()).decode()
