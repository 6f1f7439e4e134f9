"""Kuzzle's security data on Django's ORM: roles, profiles, users (on Django's users) and tokens.

A role grants actions (``{"<controller>": {"actions": {"<action>": bool, "*": bool}}}``), a profile
is a list of roles, a user a list of profiles. Tokens are an allow-list: a JWT is honoured only while
its row exists, so revocation is a delete that every server process sees.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone

from kuzzle_events.documents.dotted import indexed

__all__ = [
    "Role",
    "Profile",
    "KuzzleUser",
    "Token",
    "SecurityState",
    "RESERVED",
    "Index",
    "Collection",
    "Document",
    "ScrollCursor",
    "ListenerSwitch",
    "SwitchState",
    "Delivery",
]

# Kuzzle's base roles and profiles, created when missing and never deleted.
RESERVED = ("anonymous", "default", "admin")


class _Named(models.Model):
    """Roles and profiles: named by their Kuzzle ``_id``."""

    name = models.CharField(primary_key=True, max_length=200)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Role(_Named):
    """A set of granted actions, by controller (``*`` wildcards allowed on both levels)."""

    controllers = models.JSONField(default=dict, blank=True)
    # Anything else the role was given (Kuzzle keeps a role's other fields, such as "tags").
    extra = models.JSONField(default=dict, blank=True)

    def to_kuzzle(self) -> dict[str, Any]:
        return {"_id": self.name, "_source": {**(self.extra or {}), "controllers": self.controllers}}


class Profile(_Named):
    """A named list of roles: its rights are the union of its roles' rights."""

    roles = models.ManyToManyField(Role, related_name="profiles", blank=True)
    # The policies as given ({"roleId", "restrictedTo"}); the roles relation says which still hold.
    policies = models.JSONField(default=list, blank=True)
    rate_limit = models.PositiveIntegerField(default=0, help_text="Requests per second; 0: no limit.")
    # Anything else the profile was given (such as "tags").
    extra = models.JSONField(default=dict, blank=True)

    def policy_list(self) -> list[dict[str, Any]]:
        """``_source.policies``: one per role, with the ``restrictedTo`` it was given."""
        given = {p.get("roleId"): p for p in self.policies or [] if isinstance(p, dict)}
        policies = []
        for role in self.roles.all():
            restricted = given.get(role.name, {}).get("restrictedTo")
            policies.append({"roleId": role.name, **({"restrictedTo": restricted} if restricted else {})})
        return policies

    def to_kuzzle(self) -> dict[str, Any]:
        source = {**(self.extra or {}), "policies": self.policy_list(), "rateLimit": self.rate_limit}
        return {"_id": self.name, "_source": source}


class KuzzleUser(models.Model):
    """A Django user as Kuzzle sees them: a kuid, profiles and free content."""

    kuid = models.CharField("kuid", primary_key=True, max_length=200)
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="kuzzle")
    profiles = models.ManyToManyField(Profile, related_name="users", blank=True)
    content = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["kuid"]
        verbose_name = "Kuzzle user"

    def __str__(self) -> str:
        return self.kuid

    def profile_ids(self) -> list[str]:
        return [profile.name for profile in self.profiles.all()]

    def to_kuzzle(self) -> dict[str, Any]:
        return {"_id": self.kuid, "_source": {**self.content, "profileIds": self.profile_ids()}}


class Token(models.Model):
    """An issued JWT (only its SHA-256 is stored): authentication token or API key."""

    digest = models.CharField(primary_key=True, max_length=64)
    user = models.ForeignKey(KuzzleUser, on_delete=models.CASCADE, related_name="tokens")
    # Django's session hash of the password at issue time: a password change revokes the token.
    auth_hash = models.CharField(max_length=128)
    expires_at = models.BigIntegerField(help_text="Epoch milliseconds; -1 never expires.")
    api_key = models.CharField(max_length=200, null=True, blank=True, unique=True)
    description = models.TextField(blank=True)
    # The lifetime asked for (ms, -1: none): what an API key reports as its ttl.
    ttl = models.BigIntegerField(default=-1)
    # Honoured once, then revoked (auth:createToken with singleUse).
    single_use = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{'API key ' + self.api_key if self.api_key else 'token'} of {self.user_id}"


class SecurityState(models.Model):
    """One row: a counter bumped by every change of rights, so other processes reload theirs."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    version = models.BigIntegerField(default=0)
    # security:update{User,Profile,Role}Mapping: {"users": {...}, "profiles": {...}, "roles": {...}}
    mappings = models.JSONField(default=dict, blank=True)


# Documents ----------------------------------------------------------------------------------------


class Index(models.Model):
    """A Kuzzle index: a namespace of collections."""

    name = models.CharField(primary_key=True, max_length=126)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "indexes"

    def __str__(self) -> str:
        return self.name


class Collection(models.Model):
    """A collection of JSON documents inside an index."""

    index = models.ForeignKey(Index, on_delete=models.CASCADE, related_name="collections")
    name = models.CharField(max_length=126)
    created_at = models.DateTimeField(auto_now_add=True)
    mappings = models.JSONField(default=dict, blank=True, help_text="Elasticsearch's mappings: dynamic, _meta, properties.")
    settings = models.JSONField(default=dict, blank=True, help_text="Elasticsearch's index settings, as given.")
    specifications = models.JSONField(
        null=True, blank=True, help_text="Kuzzle's validation specifications: strict, fields, validators."
    )

    class Meta:
        ordering = ["index", "name"]
        constraints = [models.UniqueConstraint(fields=["index", "name"], name="kuzzle_collection_unique")]

    def __str__(self) -> str:
        return f"{self.index_id}:{self.name}"


class Document(models.Model):
    """One JSON document, with Kuzzle's metadata (``_kuzzle_info``) in columns of their own."""

    collection = models.ForeignKey(Collection, on_delete=models.CASCADE, related_name="documents")
    key = models.CharField("_id", max_length=512)
    # What searches read: the content with its dotted keys as paths (kuzzle_events.documents.dotted).
    source = models.JSONField(default=dict)
    sent = models.JSONField(
        null=True, blank=True, help_text="The content as sent, when it has keys with dots (source holds them as paths)."
    )
    author = models.CharField(max_length=200, null=True, blank=True)
    created_at = models.BigIntegerField(null=True, blank=True, help_text="Epoch milliseconds.")
    updater = models.CharField(max_length=200, null=True, blank=True)
    updated_at = models.BigIntegerField(null=True, blank=True, help_text="Epoch milliseconds.")
    version = models.PositiveBigIntegerField(default=1, help_text="Kuzzle's _version: 1, then +1 on each write.")
    # A raw write (bulk:write, bulk:mWrite) stores what it is given: possibly no _kuzzle_info at all,
    # or keys of its own; a pipe on generic:document:injectMetadata may add keys too.
    has_info = models.BooleanField(default=True, help_text="False: the document has no _kuzzle_info.")
    extra_info = models.JSONField(default=dict, blank=True, help_text="_kuzzle_info keys beyond the four columns.")

    class Meta:
        ordering = ["collection", "key"]
        constraints = [models.UniqueConstraint(fields=["collection", "key"], name="kuzzle_document_unique")]

    def __str__(self) -> str:
        return f"{self.collection}/{self.key}"

    def info(self) -> dict[str, Any] | None:
        """The document's ``_kuzzle_info``, or None when it has none."""
        if not self.has_info:
            return None
        columns = {
            "author": self.author,
            "createdAt": self.created_at,
            "updater": self.updater,
            "updatedAt": self.updated_at,
        }
        return {**columns, **self.extra_info}

    def set_info(self, info: dict[str, Any] | None) -> None:
        """Store ``info`` as the document's ``_kuzzle_info`` (None: none at all)."""
        info = info if isinstance(info, dict) else None
        self.has_info = info is not None
        info = dict(info or {})
        self.author, self.created_at = info.pop("author", None), info.pop("createdAt", None)
        self.updater, self.updated_at = info.pop("updater", None), info.pop("updatedAt", None)
        self.extra_info = info

    def content(self) -> dict[str, Any]:
        """The document's content as it was sent (Elasticsearch's ``_source``)."""
        return self.source if self.sent is None else self.sent

    def set_content(self, content: dict[str, Any]) -> None:
        """Store ``content``; with keys holding dots, searches see them as paths, as Elasticsearch's."""
        self.source = indexed(content)
        self.sent = None if self.source is content else content

    def to_kuzzle(self) -> dict[str, Any]:
        info = self.info()
        content = self.content()
        source = content if info is None else {**content, "_kuzzle_info": info}
        return {"_id": self.key, "_source": source}


class ScrollCursor(models.Model):
    """Where the next page of a ``document:search`` with ``scroll`` starts, until it expires.

    Only the SHA-256 of the scroll id is stored; the search is run again for each page, after the
    sort values of the last document sent (a keyset), so a page costs what the first one did.
    """

    digest = models.CharField(primary_key=True, max_length=64)
    collection = models.ForeignKey(Collection, on_delete=models.CASCADE, related_name="scrolls")
    search = models.JSONField(help_text="The search body (query in Elasticsearch's language, sort).")
    after = models.JSONField(default=list, help_text="Sort values, then _id, of the last document sent.")
    size = models.PositiveIntegerField()
    total = models.BigIntegerField()
    fetched = models.BigIntegerField()
    expires_at = models.BigIntegerField(db_index=True, help_text="Epoch milliseconds.")

    def __str__(self) -> str:
        return f"scroll of {self.collection} ({self.fetched}/{self.total})"


# Runtime switches -------------------------------------------------------------------------------


class ListenerSwitch(models.Model):
    """A pipe or hook switched off (or back on) at run time, by its qualified name and the event it
    is registered on; who did it and when. The row stays when the listener is switched back on."""

    KINDS = (("pipe", "pipe"), ("hook", "hook"))

    kind = models.CharField(max_length=4, choices=KINDS)
    event = models.CharField(max_length=255, help_text="The event the listener is registered on (wildcard included).")
    listener = models.CharField(max_length=500, help_text="The listener's qualified name (module.function).")
    enabled = models.BooleanField(default=True)
    changed_by = models.CharField(max_length=255, blank=True)
    changed_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["kind", "event", "listener"], name="kuzzle_listener_switch")]
        ordering = ["event", "kind", "listener"]
        default_permissions = ("view",)
        permissions = [("switch_listener", "Can switch pipes and hooks off and on")]

    def __str__(self) -> str:
        return f"{self.kind} {self.listener} on {self.event}: {'on' if self.enabled else 'off'}"


class SwitchState(models.Model):
    """One row: a counter bumped by every switch, which every server process watches."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    version = models.BigIntegerField(default=0)
class Delivery(models.Model):
    """One call of a durable hook, recorded when its event fired and run after that commit.

    ``id`` is the delivery id given to the hook (stable across its tries). A delivery is pending
    until its hook succeeds, which deletes it, or until its last try fails, which leaves it
    ``failed`` with the error. A process takes one for ``locked_until`` (renewed while it runs):
    past that, a process that died with it no longer holds it and another one takes it.
    """

    PENDING = "pending"
    FAILED = "failed"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    hook = models.CharField(max_length=500, help_text="The durable hook's key: owner, function and event.")
    event = models.CharField(max_length=500, help_text="The event that fired.")
    payload = models.JSONField(default=list, help_text="The event's arguments, in their JSON form.")
    status = models.CharField(max_length=10, default=PENDING, choices=[(PENDING, "pending"), (FAILED, "failed")])
    attempts = models.PositiveIntegerField(default=0, help_text="Tries started so far.")
    due_at = models.DateTimeField(default=timezone.now, help_text="When the next try may start.")
    locked_by = models.CharField(max_length=200, blank=True, default="", help_text="The process running it.")
    locked_until = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["created_at"]
        verbose_name_plural = "deliveries"
        indexes = [models.Index(fields=["status", "due_at"], name="kuzzle_delivery_due")]

    def __str__(self) -> str:
        return f"{self.hook} ({self.event}, {self.status})"
