"""Moderation test helpers: a moderator, and the admin driven like a browser.

The moderator is a staff user in the data-migrated "Moderators" group, never a
superuser, so every test proves the group's permissions are enough.
Transactional tests empty the database (the migrated group with it), so the
`moderators_group` fixture re-runs that migration's own function.

Admin actions are driven through the changelist exactly as a browser does: the
"Go" POST renders the reason page, which posts back with `post=yes`.

Async tests call the sync test client through `call` (from the `tests.sockets`
plugin, with the sockets), so the actions' after-commit sends run on the test's
event loop and reach the sockets opened there.
"""


import pytest
from django.apps import apps as django_apps
from django.contrib.auth.models import Group as AuthGroup
from django.test import Client
from django.urls import reverse

from moderation import moderators


# --- the cast ------------------------------------------------------------------------------------
@pytest.fixture
def moderators_group(db):
    moderators.create_moderators_group(django_apps, None)
    return AuthGroup.objects.get(name=moderators.GROUP_NAME)


@pytest.fixture
def moderator(make_user, moderators_group):
    user = make_user("mod", display_name="Mod", is_staff=True)
    user.groups.add(moderators_group)
    return user


@pytest.fixture
def desk(moderator):
    """The moderator's browser, signed in to /admin/."""
    client = Client()
    client.force_login(moderator)
    return client


@pytest.fixture
def superdesk(make_user):
    """A superuser's browser, for the pages moderators may not see."""
    client = Client()
    client.force_login(make_user("root", is_staff=True, is_superuser=True))
    return client


# --- the admin -----------------------------------------------------------------------------------
def changelist(model):
    """`changelist("accounts.user")` -> "/admin/accounts/user/"."""
    app, name = model.split(".")
    return reverse(f"admin:{app}_{name}_changelist")


def run_action(client, model, action, rows, reason="Breaks the rules."):
    """Run a moderation action like a moderator: tick `rows`, Go, give a reason, confirm."""
    url, pks = changelist(model), [str(row.pk) for row in rows]
    page = client.post(url, {"action": action, "_selected_action": pks, "index": "0"})
    assert page.status_code == 200, page.status_code
    assert b'name="reason"' in page.content and b'name="post" value="yes"' in page.content, page.content[:2000]
    done = client.post(url, {"action": action, "_selected_action": pks, "post": "yes", "reason": reason})
    assert done.status_code == 302, done.content[:2000]
    return done


def admin_messages(client):
    """The texts of the admin's flash messages, read from the changelist the action redirected to."""
    from django.contrib.messages import get_messages

    response = client.get("/admin/")
    return [str(m) for m in get_messages(response.wsgi_request)]

