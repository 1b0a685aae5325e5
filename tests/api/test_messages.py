"""Every message a student can trigger reads as a sentence for a student: the place named as
the page names it, the limit and the value given; never pydantic's own wording."""

import pytest

CASES = [
    ("/api/v1/receptive-field", {"layers": []}, "the layers: at least 1, not 0"),
    ("/api/v1/conv", {"image": {"preset": "camera", "size": 2}, "kernels": ["box"]},
     "the image's size must be at least 4, not 2"),
    ("/api/v1/receptive-field", {"layers": [{"type": "conv", "kernel": 3}, {"type": "conv", "kernel": 30}]},
     "layer 2: the kernel must be at most 11, not 30"),
    ("/api/v1/lenet/predict", {"pixels": [[0.0] * 28] * 27 + [[0.0] * 27 + [3.0]]},
     "the pixels at row 28, column 28 must be at most 1, not 3"),
    ("/api/v1/descent", {"expression": "w^2", "learning_rate": 0}, "the learning rate must be more than 0, not 0"),
    ("/api/v1/graph", {"expression": "x", "values": {"x": "three"}}, "the value of x must be"),
    ("/api/v1/conv", {"image": [[1.0]], "kernels": ["box"], "stride": 1.5}, "the stride must be a whole number"),
]  # fmt: skip


@pytest.mark.parametrize(("path", "body", "message"), CASES)
def test_messages_are_written_for_a_student(client, path, body, message):
    answer = client.post(path, json=body)
    assert answer.status_code == 422
    text = answer.json()["detail"][0]["msg"]
    assert text.startswith(message), text
    assert "Input should" not in text and "List should" not in text and "validation" not in text
