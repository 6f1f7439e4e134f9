"""Roles, profiles, users and tokens in the Django admin.

Saving here is saving through the ORM: every process's rights follow (see ``security.signals``).
Deleting a token revokes it.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin

from kuzzle_events import errors
from kuzzle_events.models import KuzzleUser, Profile, Role, Token
from kuzzle_events.security.rights import role_allows, validate_role
from kuzzle_events.security.tokens import now_ms


class RoleForm(forms.ModelForm):
    class Meta:
        model = Role
        fields = ["name", "controllers"]
        help_texts = {
            "controllers": '{"<controller>": {"actions": {"<action>": true}}}; "*" matches any controller or action.'
        }

    def clean_controllers(self) -> Any:
        controllers = self.cleaned_data["controllers"]
        name = self.cleaned_data.get("name") or self.instance.name
        try:
            validate_role(name, controllers)
        except errors.KuzzleError as error:
            raise forms.ValidationError(error.message) from None
        if name == "anonymous" and not role_allows(controllers, "auth", "login"):
            raise forms.ValidationError(errors.get("security.role.login_required").message)
        return controllers


@admin.register(Role)
class RoleAdmin(admin.ModelAdmin):
    form = RoleForm
    list_display = ["name", "controller_names", "updated_at"]
    search_fields = ["name"]

    @admin.display(description="controllers")
    def controller_names(self, role: Role) -> str:
        return ", ".join(sorted(role.controllers))


@admin.register(Profile)
class ProfileAdmin(admin.ModelAdmin):
    list_display = ["name", "role_names", "updated_at"]
    filter_horizontal = ["roles"]
    search_fields = ["name"]

    @admin.display(description="roles")
    def role_names(self, profile: Profile) -> str:
        return ", ".join(role.name for role in profile.roles.all())

    def get_queryset(self, request: Any) -> Any:
        return super().get_queryset(request).prefetch_related("roles")


@admin.register(KuzzleUser)
class KuzzleUserAdmin(admin.ModelAdmin):
    list_display = ["kuid", "user", "profile_names"]
    filter_horizontal = ["profiles"]
    search_fields = ["kuid", "user__username"]
    raw_id_fields = ["user"]

    @admin.display(description="profiles")
    def profile_names(self, kuzzle_user: KuzzleUser) -> str:
        return ", ".join(kuzzle_user.profile_ids())

    def get_queryset(self, request: Any) -> Any:
        return super().get_queryset(request).select_related("user").prefetch_related("profiles")


@admin.register(Token)
class TokenAdmin(admin.ModelAdmin):
    """Issued tokens and API keys: listed, never shown (only digests are stored), revoked by deleting."""

    list_display = ["user", "kind", "api_key", "description", "expires", "created_at"]
    list_filter = ["created_at"]
    search_fields = ["user__kuid", "api_key", "description"]
    readonly_fields = ["digest", "user", "auth_hash", "expires_at", "api_key", "description", "created_at"]

    @admin.display(description="kind")
    def kind(self, token: Token) -> str:
        return "API key" if token.api_key else "authentication token"

    @admin.display(description="expires")
    def expires(self, token: Token) -> str:
        if token.expires_at == -1:
            return "never"
        left = (token.expires_at - now_ms()) // 1000
        return f"in {left} s" if left > 0 else "expired"

    def has_add_permission(self, request: Any) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False
