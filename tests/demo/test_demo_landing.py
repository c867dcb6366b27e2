"""Every demo account lands in *Vision*, where the demo's work is (not in the empty
*Text & Documents*, which comes first by name)."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.test import Client

pytestmark = pytest.mark.django_db

PASSWORD = "labelhub-demo-2026"


@pytest.mark.parametrize("who", ["admin", "manager", "labeler1", "labeler2"])
def test_demo_accounts_land_in_vision(who):
    call_command("seed_demo", stdout=io.StringIO())
    client = Client()
    signed_in = client.post(
        "/accounts/sign-in/", {"username": f"{who}@demo.labelhub.local", "password": PASSWORD}
    )
    assert signed_in.status_code == 302
    page = client.get("/projects/")
    assert page.context["current_workspace"].name == "Vision"
    assert b'data-project="Street scenes"' in page.content
    assert b"No projects match." not in page.content
