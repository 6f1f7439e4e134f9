"""The ``security`` controller's actions: users, profiles and roles, stored with Django's models.

Handlers are plain functions: they use the ORM, so each runs in Django's sync thread (one hop).
Whatever they change reaches every process's rights through the signals of
:mod:`kuzzle_events.security.signals`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

from django.contrib.auth import get_user_model, password_validation
from django.core.exceptions import ValidationError
from django.db import transaction

from kuzzle_events import errors
from kuzzle_events.models import RESERVED, KuzzleUser, Profile, Role
from kuzzle_events.security.rights import DEFAULT_ROLES, role_allows, validate_role

if TYPE_CHECKING:
    from kuzzle_events.application import Application
    from kuzzle_events.core.request import KuzzleRequest

__all__ = ["HANDLERS"]


# Shared helpers ---------------------------------------------------------------------------------


def _page(request: KuzzleRequest, hits: list[dict[str, Any]]) -> dict[str, Any]:
    start = request.get_integer("from", 0)
    size = request.get_integer("size", 10)
    if start < 0 or size < 0:
        raise errors.get("api.assert.invalid_argument", "from/size", "positive integers")
    return {"hits": hits[start : start + size], "total": len(hits)}


def _string_list(value: Any, name: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise errors.get("api.assert.invalid_type", name, "array of strings")
    return value


def _new_id(request: KuzzleRequest) -> str:
    _id = request.get_string("_id")
    if not _id:
        raise errors.get("api.assert.empty_argument", "_id")
    if _id.startswith("_"):
        raise errors.get("api.assert.invalid_id")
    return _id


# Users ------------------------------------------------------------------------------------------


def _get_user(kuid: str) -> KuzzleUser:
    found = KuzzleUser.objects.select_related("user").prefetch_related("profiles").filter(kuid=kuid).first()
    if found is None:
        raise errors.get("security.user.not_found", kuid)
    return found


def _check_profiles(profile_ids: list[str]) -> None:
    known = set(Profile.objects.filter(name__in=profile_ids).values_list("name", flat=True))
    for profile_id in profile_ids:
        if profile_id not in known:
            raise errors.get("security.profile.not_found", profile_id)


def _credentials(body: dict[str, Any]) -> tuple[str, str] | None:
    credentials = body.get("credentials")
    if credentials is None:
        return None
    if not isinstance(credentials, dict):
        raise errors.get("api.assert.invalid_type", "body.credentials", "object")
    for strategy in credentials:
        if strategy != "local":
            raise errors.get("security.credentials.unknown_strategy", strategy)
    local = credentials.get("local")
    if not isinstance(local, dict):
        raise errors.get("api.assert.invalid_type", "body.credentials.local", "object")
    username, password = local.get("username"), local.get("password")
    for name, value in (("username", username), ("password", password)):
        if not isinstance(value, str) or not value:
            raise errors.get("api.assert.missing_argument", f"body.credentials.local.{name}")
    return username, password


def _set_password(django_user: Any, password: str) -> None:
    try:
        password_validation.validate_password(password, django_user)
    except ValidationError as error:
        raise errors.get("security.credentials.rejected", " ".join(error.messages)) from None
    django_user.set_password(password)


def _create_user(
    kuid: str | None, body: dict[str, Any], profile_ids: list[str], *, superuser: bool = False
) -> dict[str, Any]:
    """One Django user and its Kuzzle side, or nothing at all."""
    import uuid

    content = body.get("content", {})
    if not isinstance(content, dict):
        raise errors.get("api.assert.invalid_type", "body.content", "object")
    if not profile_ids:
        raise errors.get("api.assert.empty_argument", "body.content.profileIds")
    kuid = kuid or uuid.uuid4().hex
    credentials = _credentials(body)
    user_model = get_user_model()
    username = credentials[0] if credentials else kuid
    with transaction.atomic():
        _check_profiles(profile_ids)
        if KuzzleUser.objects.filter(kuid=kuid).exists():
            raise errors.get("security.user.already_exists", kuid)
        if user_model.objects.filter(**{user_model.USERNAME_FIELD: username}).exists():
            raise errors.get("security.credentials.rejected", f'Login "{username}" is already used.')
        django_user = user_model(**{user_model.USERNAME_FIELD: username})
        django_user.is_staff = django_user.is_superuser = superuser
        if credentials:
            _set_password(django_user, credentials[1])
        else:
            django_user.set_unusable_password()
        # Read by the post_save receiver, which creates the Kuzzle side of every Django user.
        django_user._kuzzle_kuid = kuid
        django_user._kuzzle_profile_ids = profile_ids
        django_user.save()
        kuzzle_user = KuzzleUser.objects.get(kuid=kuid)
        kuzzle_user.content = {k: v for k, v in content.items() if k != "profileIds"}
        kuzzle_user.save(update_fields=["content"])
    return kuzzle_user.to_kuzzle()


def create_user(app: Application, request: KuzzleRequest) -> dict[str, Any]:
    """A user with credentials (``local``) and ``content.profileIds``."""
    body = request.get_body()
    content = body.get("content", {})
    profile_ids = _string_list(
        content.get("profileIds") if isinstance(content, dict) else None, "body.content.profileIds"
    )
    return _create_user(request.get_string("_id", None), body, profile_ids)


def create_restricted_user(app: Application, request: KuzzleRequest) -> dict[str, Any]:
    """A user with the configured ``RESTRICTED_PROFILES``, which the caller may not choose."""
    body = request.get_body()
    content = body.get("content", {})
    if isinstance(content, dict) and "profileIds" in content:
        raise errors.get("api.assert.forbidden_argument", "body.content.profileIds")
    return _create_user(request.get_string("_id", None), body, list(app.config.RESTRICTED_PROFILES))


def create_first_admin(app: Application, request: KuzzleRequest) -> dict[str, Any]:
    """The first administrator (a Django superuser); ``reset`` restores the base roles."""
    from kuzzle_events.security.store import load_rights

    rights = load_rights()
    if rights is not None and rights.admin_exists:
        raise errors.get("api.process.admin_exists")
    body = request.get_body()
    content = body.get("content", {})
    if isinstance(content, dict) and "profileIds" in content:
        raise errors.get("api.assert.forbidden_argument", "body.content.profileIds")
    if _credentials(body) is None:
        raise errors.get("api.assert.missing_argument", "body.credentials")
    with transaction.atomic():
        created = _create_user(request.get_string("_id", None), body, ["admin"], superuser=True)
        if request.get_boolean("reset"):
            for name, controllers in DEFAULT_ROLES.items():
                Role.objects.update_or_create(name=name, defaults={"controllers": controllers})
    return created


def get_user(app: Application, request: KuzzleRequest) -> dict[str, Any]:
    return _get_user(request.get_id()).to_kuzzle()


def update_user(app: Application, request: KuzzleRequest) -> dict[str, Any]:
    """Merge ``body`` into the user's content; ``body.profileIds`` replaces its profiles."""
    body = dict(request.get_body())
    with transaction.atomic():
        kuzzle_user = _get_user(request.get_id())
        if "profileIds" in body:
            profile_ids = _string_list(body.pop("profileIds"), "body.profileIds")
            if not profile_ids:
                raise errors.get("api.assert.empty_argument", "body.profileIds")
            _check_profiles(profile_ids)
            kuzzle_user.profiles.set(profile_ids)
        kuzzle_user.content = {**kuzzle_user.content, **body}
        kuzzle_user.save(update_fields=["content"])
    return _get_user(kuzzle_user.kuid).to_kuzzle()


def delete_user(app: Application, request: KuzzleRequest) -> dict[str, Any]:
    """Delete the user and its Django user; its tokens and API keys die with it."""
    kuzzle_user = _get_user(request.get_id())
    kuzzle_user.user.delete()
    return {"_id": kuzzle_user.kuid}


def search_users(app: Application, request: KuzzleRequest) -> dict[str, Any]:
    """Users matching ``body.query`` (``match_all``, ``ids``, ``term``/``terms``, ``bool.must``)."""
    body = request.get_body({})
    match = _user_query(body.get("query") or {})
    users = KuzzleUser.objects.prefetch_related("profiles").order_by("kuid")
    return _page(request, [u.to_kuzzle() for u in users if match(u.to_kuzzle())])


def update_credentials(app: Application, request: KuzzleRequest) -> dict[str, Any]:
    """Change a user's ``local`` username and/or password; a new password revokes its tokens."""
    strategy = request.get_string("strategy")
    if strategy != "local":
        raise errors.get("security.credentials.unknown_strategy", strategy)
    body = request.get_body()
    with transaction.atomic():
        django_user = _get_user(request.get_id()).user
        user_model = type(django_user)
        username = body.get("username")
        if username is not None:
            if not isinstance(username, str) or not username:
                raise errors.get("api.assert.invalid_type", "body.username", "string")
            taken = user_model.objects.filter(**{user_model.USERNAME_FIELD: username}).exclude(pk=django_user.pk)
            if taken.exists():
                raise errors.get("security.credentials.rejected", f'Login "{username}" is already used.')
            setattr(django_user, user_model.USERNAME_FIELD, username)
        password = body.get("password")
        if password is not None:
            if not isinstance(password, str) or not password:
                raise errors.get("api.assert.invalid_type", "body.password", "string")
            _set_password(django_user, password)
        django_user.save()
    return {"username": django_user.get_username(), "kuid": request.get_id()}


# Roles --------------------------------------------------------------------------------------


def _known_actions(app: Application) -> dict[str, list[str]]:
    return {name: list(c.actions) for name, c in app.controller.controllers.items()}


def _checked_role(app: Application, request: KuzzleRequest, name: str, controllers: Any) -> dict[str, Any]:
    validate_role(name, controllers, None if request.get_boolean("force") else _known_actions(app))
    if name == "anonymous" and not role_allows(controllers, "auth", "login"):
        raise errors.get("security.role.login_required")
    return controllers


def _get_role_row(name: str) -> Role:
    found = Role.objects.filter(name=name).first()
    if found is None:
        raise errors.get("security.role.not_found", name)
    return found


def create_role(app: Application, request: KuzzleRequest) -> dict[str, Any]:
    name = _new_id(request)
    controllers = _checked_role(app, request, name, request.get_body().get("controllers"))
    with transaction.atomic():
        if Role.objects.filter(name=name).exists():
            raise errors.get("security.role.already_exists", name)
        return Role.objects.create(name=name, controllers=controllers).to_kuzzle()


def create_or_replace_role(app: Application, request: KuzzleRequest) -> dict[str, Any]:
    name = _new_id(request)
    controllers = _checked_role(app, request, name, request.get_body().get("controllers"))
    role, _ = Role.objects.update_or_create(name=name, defaults={"controllers": controllers})
    return role.to_kuzzle()


def get_role(app: Application, request: KuzzleRequest) -> dict[str, Any]:
    return _get_role_row(request.get_id()).to_kuzzle()


def update_role(app: Application, request: KuzzleRequest) -> dict[str, Any]:
    """Merge ``body.controllers`` into the role's, controller by controller."""
    update = request.get_body().get("controllers")
    if not isinstance(update, dict):
        raise errors.get("api.assert.invalid_type", "body.controllers", "object")
    with transaction.atomic():
        role = _get_role_row(request.get_id())
        role.controllers = _checked_role(app, request, role.name, {**role.controllers, **update})
        role.save()
    return role.to_kuzzle()


def _delete_unused(kind: str, request: KuzzleRequest, find: Callable[[str], Any], users: str) -> dict[str, Any]:
    """Delete a role or profile, unless it is a base one or still has ``users`` (a relation)."""
    name = request.get_id()
    if name in RESERVED:
        raise errors.get(f"security.{kind}.cannot_delete")
    with transaction.atomic():
        row = find(name)
        if getattr(row, users).exists():
            raise errors.get(f"security.{kind}.in_use", name)
        row.delete()
    return {"_id": name}


def delete_role(app: Application, request: KuzzleRequest) -> dict[str, Any]:
    return _delete_unused("role", request, _get_role_row, "profiles")


def search_roles(app: Application, request: KuzzleRequest) -> dict[str, Any]:
    """Roles, or those naming one of ``body.controllers`` (or ``*``)."""
    wanted = request.get_body({}).get("controllers")
    roles = Role.objects.order_by("name")
    if wanted is not None:
        wanted = set(_string_list(wanted, "body.controllers"))
        roles = [r for r in roles if "*" in r.controllers or wanted & set(r.controllers)]
    return _page(request, [r.to_kuzzle() for r in roles])


# Profiles ---------------------------------------------------------------------------------------


def _policies_of(request: KuzzleRequest, name: str) -> list[str]:
    policies = request.get_body().get("policies")
    if not isinstance(policies, list) or not policies:
        raise errors.get("api.assert.invalid_type", "body.policies", "non-empty array")
    role_ids = []
    for policy in policies:
        if not isinstance(policy, dict) or not isinstance(policy.get("roleId"), str):
            raise errors.get("api.assert.invalid_type", "body.policies[].roleId", "string")
        role_ids.append(policy["roleId"])
    known = set(Role.objects.filter(name__in=role_ids).values_list("name", flat=True))
    for role_id in role_ids:
        if role_id not in known:
            raise errors.get("security.role.not_found", role_id)
    if name == "anonymous" and "anonymous" not in role_ids:
        raise errors.get("security.profile.missing_anonymous_role")
    return role_ids


def _get_profile_row(name: str) -> Profile:
    found = Profile.objects.prefetch_related("roles").filter(name=name).first()
    if found is None:
        raise errors.get("security.profile.not_found", name)
    return found


def _save_profile(name: str, role_ids: list[str], *, must_be_new: bool) -> dict[str, Any]:
    with transaction.atomic():
        profile, created = Profile.objects.get_or_create(name=name)
        if must_be_new and not created:
            raise errors.get("security.profile.already_exists", name)
        profile.roles.set(role_ids)
    return _get_profile_row(name).to_kuzzle()


def create_profile(app: Application, request: KuzzleRequest) -> dict[str, Any]:
    name = _new_id(request)
    return _save_profile(name, _policies_of(request, name), must_be_new=True)


def create_or_replace_profile(app: Application, request: KuzzleRequest) -> dict[str, Any]:
    name = _new_id(request)
    return _save_profile(name, _policies_of(request, name), must_be_new=False)


def get_profile(app: Application, request: KuzzleRequest) -> dict[str, Any]:
    return _get_profile_row(request.get_id()).to_kuzzle()


def update_profile(app: Application, request: KuzzleRequest) -> dict[str, Any]:
    name = request.get_id()
    _get_profile_row(name)
    return _save_profile(name, _policies_of(request, name), must_be_new=False)


def delete_profile(app: Application, request: KuzzleRequest) -> dict[str, Any]:
    return _delete_unused("profile", request, _get_profile_row, "users")


def search_profiles(app: Application, request: KuzzleRequest) -> dict[str, Any]:
    """Profiles, or those holding one of ``body.roles``."""
    wanted = request.get_body({}).get("roles")
    profiles = list(Profile.objects.prefetch_related("roles").order_by("name"))
    if wanted is not None:
        wanted = set(_string_list(wanted, "body.roles"))
        profiles = [p for p in profiles if wanted & {r.name for r in p.roles.all()}]
    return _page(request, [p.to_kuzzle() for p in profiles])


HANDLERS: dict[str, Callable[[Application, KuzzleRequest], dict[str, Any]]] = {
    "createFirstAdmin": create_first_admin,
    "createUser": create_user,
    "createRestrictedUser": create_restricted_user,
    "getUser": get_user,
    "updateUser": update_user,
    "deleteUser": delete_user,
    "searchUsers": search_users,
    "updateCredentials": update_credentials,
    "createRole": create_role,
    "createOrReplaceRole": create_or_replace_role,
    "getRole": get_role,
    "updateRole": update_role,
    "deleteRole": delete_role,
    "searchRoles": search_roles,
    "createProfile": create_profile,
    "createOrReplaceProfile": create_or_replace_profile,
    "getProfile": get_profile,
    "updateProfile": update_profile,
    "deleteProfile": delete_profile,
    "searchProfiles": search_profiles,
}


# searchUsers' query language: a small part of Elasticsearch's, on _id, profileIds and content --


def _user_query(query: Any) -> Callable[[dict[str, Any]], bool]:
    if not isinstance(query, dict):
        raise errors.get("api.assert.invalid_type", "body.query", "object")
    if not query or "match_all" in query:
        return lambda user: True
    if len(query) != 1:
        raise errors.get("api.assert.invalid_argument", "body.query", "exactly one clause")
    ((keyword, clause),) = query.items()
    if keyword == "ids":
        values = _string_list(clause.get("values") if isinstance(clause, dict) else None, "body.query.ids.values")
        return lambda user: user["_id"] in values
    if keyword in ("term", "terms", "match"):
        if not isinstance(clause, dict) or len(clause) != 1:
            raise errors.get("api.assert.invalid_argument", f"body.query.{keyword}", "one field")
        ((field, wanted),) = clause.items()
        accepted = wanted if keyword == "terms" and isinstance(wanted, list) else [wanted]
        return lambda user: any(value in accepted for value in _field_values(user, field))
    if keyword == "bool" and isinstance(clause, dict):
        unknown = set(clause) - {"must", "filter", "should", "must_not"}
        if unknown:
            raise errors.get("api.assert.invalid_argument", "body.query.bool", "must, filter, should, must_not")
        parts = {k: [_user_query(q) for q in (v if isinstance(v, list) else [v])] for k, v in clause.items()}
        return lambda user: (
            all(m(user) for m in parts.get("must", []) + parts.get("filter", []))
            and (not parts.get("should") or any(m(user) for m in parts["should"]))
            and not any(m(user) for m in parts.get("must_not", []))
        )
    raise errors.get("api.assert.invalid_argument", "body.query", "match_all, ids, term, terms, match or bool clauses")


def _field_values(user: dict[str, Any], field: str) -> list[Any]:
    value: Any = user["_id"] if field == "_id" else user["_source"]
    if field != "_id":
        for part in field.split("."):
            value = value.get(part) if isinstance(value, dict) else None
    return value if isinstance(value, list) else [value]
