"""Bird's Notifications API: the webhook subscriptions that send failures to birdwatch.

``POST/GET /organizations/{organizationId}/workspaces/{workspaceId}/webhook-subscriptions`` and
``DELETE .../webhook-subscriptions/{id}``. A subscription's filters are AND-ed, so "failures only" is
one subscription per event and failed status (the ``messageStatus`` filter).
"""

from __future__ import annotations

from typing import Any

import httpx

from catalog.failure_groups import FAILED_STATUSES

DEFAULT_PLATFORMS = ("sms", "whatsapp", "email")
TIMEOUT = httpx.Timeout(10.0, connect=5.0)


class NotificationsError(Exception):
    """Bird refused or could not be reached; the message says which, never the key."""


class Notifications:
    def __init__(
        self,
        base_url: str,
        access_key: str,
        organization_id: str,
        workspace_id: str,
        *,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self._path = f"/organizations/{organization_id}/workspaces/{workspace_id}/webhook-subscriptions"
        self._client = httpx.Client(
            base_url=base_url,
            headers={"Authorization": f"AccessKey {access_key}", "Accept": "application/json"},
            timeout=TIMEOUT,
            transport=transport,
        )

    def __enter__(self) -> Notifications:
        return self

    def __exit__(self, *exc: object) -> None:
        self._client.close()

    def subscribe(self, url: str, signing_key: str, platforms: tuple[str, ...]) -> list[dict[str, Any]]:
        """One subscription per platform's outbound event and failed status."""
        created = []
        for platform in platforms:
            for status in sorted(FAILED_STATUSES):
                body = {
                    "service": "channels",
                    "event": f"{platform}.outbound",
                    "url": url,
                    "signingKey": signing_key,
                    "eventFilters": [{"key": "messageStatus", "value": status}],
                }
                created.append(self._call("POST", self._path, json=body))
        return created

    def list(self) -> list[dict[str, Any]]:
        page = self._call("GET", self._path)
        results = page.get("results", [])
        return [r for r in results if isinstance(r, dict)] if isinstance(results, list) else []

    def delete(self, subscription_id: str) -> None:
        self._call("DELETE", f"{self._path}/{subscription_id}")

    def _call(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        try:
            response = self._client.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise NotificationsError(f"Bird could not be reached ({type(exc).__name__})") from None
        if response.status_code >= 400:
            raise NotificationsError(f"Bird answered {response.status_code}: {_message(response)}")
        if response.status_code == 204 or not response.content:
            return {}
        try:
            data = response.json()
        except ValueError:
            raise NotificationsError("Bird sent a response birdwatch cannot read") from None
        return data if isinstance(data, dict) else {}


def _message(response: httpx.Response) -> str:
    try:
        data = response.json()
    except ValueError:
        return "no details"
    message = data.get("message") if isinstance(data, dict) else None
    return str(message)[:200] if message else "no details"
