"""``Config``: the settings in force, read as keys or as attributes. No Django import."""

from __future__ import annotations

from typing import Any

__all__ = ["Config"]


class Config(dict[str, Any]):
    """The settings in force: attribute or key access (``app.config.PIPE_WARN_TIME``).

    Each setting is also an instance attribute, kept in step with the keys: requests read
    settings, and an attribute found in the instance is read without a call (``__getattr__``
    runs only for a name that is not there).
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name, value in self.items():
            self._mirror(name, value)

    def _mirror(self, name: Any, value: Any) -> None:
        # (Never a name dict itself has: a setting called "items" must not hide the method.)
        if isinstance(name, str) and not hasattr(dict, name):
            self.__dict__[name] = value

    def __setitem__(self, name: str, value: Any) -> None:
        super().__setitem__(name, value)
        self._mirror(name, value)

    def __delitem__(self, name: str) -> None:
        super().__delitem__(name)
        self.__dict__.pop(name, None)

    def update(self, *args: Any, **kwargs: Any) -> None:
        for name, value in dict(*args, **kwargs).items():
            self[name] = value

    def setdefault(self, name: str, default: Any = None) -> Any:
        if name not in self:
            self[name] = default
        return self[name]

    def pop(self, name: str, *default: Any) -> Any:
        self.__dict__.pop(name, None)
        return super().pop(name, *default)

    def popitem(self) -> tuple[str, Any]:
        name, value = super().popitem()
        self.__dict__.pop(name, None)
        return name, value

    def __ior__(self, other: Any) -> Config:  # type: ignore[override,misc]
        self.update(other)
        return self

    def clear(self) -> None:
        super().clear()
        self.__dict__.clear()

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None
