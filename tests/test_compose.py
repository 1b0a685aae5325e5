"""docker-compose.yml, checked as far as it can be without a Docker engine: its services (Redis,
two replicas of the project's image, nginx), what each is given (the Redis URL, the classroom
secret from .env or the shell, the forwarded-address trust for nginx's fixed address), their
health checks, and the nginx config it mounts: deploy/nginx.conf with only the upstream
servers renamed, which passes ``nginx -t`` once those names are mapped back to loopback ports."""

from __future__ import annotations

import importlib.util
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.services import CONF, NGINX, ROOT, render_nginx_conf

COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]
COMPOSE_CONF = ROOT / "deploy" / "nginx.compose.conf"
spec = importlib.util.spec_from_file_location("render_compose_nginx", ROOT / "deploy" / "render_compose_nginx.py")
renderer = importlib.util.module_from_spec(spec)
spec.loader.exec_module(renderer)


def test_redis_two_replicas_of_the_image_and_nginx():
    assert set(SERVICES) == {"redis", "deepviz-1", "deepviz-2", "nginx"}
    assert SERVICES["deepviz-1"] == SERVICES["deepviz-2"]  # the same replica twice (a YAML anchor)
    replica = SERVICES["deepviz-1"]
    assert replica["build"] == "." and (ROOT / "Dockerfile").exists()
    assert "ports" not in replica  # reached through nginx only
    assert set(renderer.UPSTREAMS.values()) == {"deepviz-1:8000", "deepviz-2:8000"}
    assert "8000" in (ROOT / "Dockerfile").read_text().split("CMD")[-1]  # the port the upstreams name
    assert SERVICES["nginx"]["ports"] == ["${DEEPVIZ_HTTP_PORT:-8080}:80"]
    assert "ports" not in SERVICES["redis"]
    assert "--appendonly" in SERVICES["redis"]["command"]  # no persistence, said so in the file


def test_the_replicas_share_redis_and_a_secret_given_from_outside():
    env = SERVICES["deepviz-1"]["environment"]
    assert env["DEEPVIZ_REDIS_URL"] == "redis://redis:6379/0"
    assert env["DEEPVIZ_CLASSROOM_SECRET"].startswith("${DEEPVIZ_CLASSROOM_SECRET:?")  # compose refuses without
    assert env["DEEPVIZ_WORKERS"] == "2"
    nginx_address = SERVICES["nginx"]["networks"]["deepviz"]["ipv4_address"]
    assert env["DEEPVIZ_FORWARDED_ALLOW_IPS"] == nginx_address  # the students' real addresses, from nginx only
    subnet = COMPOSE["networks"]["deepviz"]["ipam"]["config"][0]["subnet"]
    assert nginx_address.rsplit(".", 1)[0] == subnet.split("/")[0].rsplit(".", 1)[0]
    assert SERVICES["deepviz-1"]["depends_on"] == {"redis": {"condition": "service_healthy"}}
    assert SERVICES["nginx"]["depends_on"] == {f"deepviz-{i}": {"condition": "service_healthy"} for i in (1, 2)}


def test_every_service_checks_its_health():
    assert SERVICES["redis"]["healthcheck"]["test"] == ["CMD", "redis-cli", "ping"]
    assert "http://127.0.0.1:8000/healthz" in " ".join(SERVICES["deepviz-1"]["healthcheck"]["test"])
    assert "http://127.0.0.1/healthz" in SERVICES["nginx"]["healthcheck"]["test"]


def test_nginx_mounts_the_compose_conf_and_the_static_folder_where_the_conf_expects_them():
    volumes = dict(v.rsplit(":", 1)[0].split(":", 1) for v in SERVICES["nginx"]["volumes"])
    assert volumes["./deploy/nginx.compose.conf"] == "/etc/nginx/deepviz.conf"
    assert SERVICES["nginx"]["command"][:3] == ["nginx", "-c", "/etc/nginx/deepviz.conf"]
    static = volumes["./deepviz/app/static"]
    assert f"alias {static}/;" in COMPOSE_CONF.read_text() and (ROOT / "deepviz/app/static").is_dir()
    assert SERVICES["nginx"]["tmpfs"] == ["/var/lib/nginx/deepviz"]
    assert "client_body_temp_path /var/lib/nginx/deepviz/body;" in COMPOSE_CONF.read_text()


def test_the_compose_conf_is_the_shipped_one_with_only_the_upstreams_renamed():
    committed = COMPOSE_CONF.read_text()
    assert committed == renderer.render(CONF.read_text()), "run: python deploy/render_compose_nginx.py"
    mapped_back = committed.removeprefix(renderer.HEADER)
    for shipped, service in renderer.UPSTREAMS.items():
        mapped_back = mapped_back.replace(f"server {service} ", f"server {shipped} ")
    assert mapped_back == CONF.read_text()


def test_the_compose_conf_passes_nginx_t_with_the_services_mapped_to_loopback(tmp_path):
    text = COMPOSE_CONF.read_text()
    for i, service in enumerate(renderer.UPSTREAMS.values()):
        text = text.replace(f"server {service} ", f"server 127.0.0.1:{8001 + i} ")
    (tmp_path / "temp").mkdir()
    conf = tmp_path / "nginx.conf"
    conf.write_text(render_nginx_conf(text, listen="80", upstreams=["127.0.0.1:18701", "127.0.0.1:18702"],
                                      static_dir=Path("/srv/deepviz/deepviz/app/static"), prefix=tmp_path))  # fmt: skip
    test = subprocess.run([NGINX, "-t", "-c", str(conf), "-p", str(tmp_path), "-e", str(tmp_path / "error.log")],
                          capture_output=True, text=True, timeout=30)  # fmt: skip
    assert test.returncode == 0, test.stderr


def test_a_changed_shipped_conf_is_not_rendered_silently():
    with pytest.raises(ValueError, match="upstream server 127.0.0.1:8002"):
        renderer.render(CONF.read_text().replace("server 127.0.0.1:8002", "server 127.0.0.1:9002"))
