"""Use cases of tenant administration: create a tenant, define its not-ready reasons."""

import attrs

from calldesk.apps.aggregates import tenant_named
from calldesk.apps.commands import TenantCommand, text
from calldesk.apps.phone_numbers import checked_region
from calldesk.apps.unit_of_work import Service, writes
from calldesk.domain.tenants import (
    DEFAULT_NOT_READY_REASONS,
    NotReadyReason,
    QuickConnect,
    Tenant,
    WrapUpPolicy,
)


@attrs.frozen
class CreateTenant(TenantCommand):
    name: str = attrs.field(validator=text("a tenant name"))
    not_ready_reasons: tuple[NotReadyReason, ...] = DEFAULT_NOT_READY_REASONS


@attrs.frozen
class DefineNotReadyReasons(TenantCommand):
    reasons: tuple[NotReadyReason, ...]


@attrs.frozen
class SetWrapUpPolicy(TenantCommand):
    policy: WrapUpPolicy


@attrs.frozen
class SetDefaultRegion(TenantCommand):
    region: str


@attrs.frozen
class ClosePoppedTabs(TenantCommand):
    """Whether a call's end closes the console tab its screen pop opened."""

    close: bool


@attrs.frozen
class DefineDispositions(TenantCommand):
    """The pick list agents wrap calls up with; empty, they type their own."""

    dispositions: tuple[str, ...]


@attrs.frozen
class DefineQuickConnects(TenantCommand):
    """The numbers the transfer dialog offers first."""

    quick_connects: tuple[QuickConnect, ...]


@attrs.frozen
class TenantView:
    """A tenant as the CLI and the API show it."""

    tenant: str
    name: str
    not_ready_reasons: tuple[NotReadyReason, ...]
    wrap_up_policy: WrapUpPolicy
    default_region: str
    closes_popped_tabs: bool
    dispositions: tuple[str, ...]
    quick_connects: tuple[QuickConnect, ...]
    version: int

    @classmethod
    def of(cls, tenant: Tenant) -> "TenantView":
        return cls(
            tenant.slug,
            tenant.name,
            tuple(tenant.not_ready_reasons),
            tenant.wrap_up_policy,
            tenant.default_region,
            tenant.closes_popped_tabs,
            tuple(tenant.dispositions),
            tuple(tenant.quick_connects),
            tenant.version,
        )


class Tenancy(Service):
    """Tenant administration: names, not-ready reasons, wrap-up, numbering region."""

    @writes
    def create_tenant(self, command: CreateTenant) -> TenantView:
        tenant = Tenant.create(
            command.tenant, command.name, command.not_ready_reasons, command.at
        )
        return TenantView.of(
            self.work.create(tenant, f"tenant {command.tenant} already exists")
        )

    @writes
    def define_not_ready_reasons(self, command: DefineNotReadyReasons) -> TenantView:
        tenant = self.work.change(
            lambda: self._tenant(command.tenant),
            lambda tenant: tenant.define_not_ready_reasons(command.reasons, command.at),
        )
        return TenantView.of(tenant)

    @writes
    def define_dispositions(self, command: DefineDispositions) -> TenantView:
        tenant = self.work.change(
            lambda: self._tenant(command.tenant),
            lambda tenant: tenant.define_dispositions(command.dispositions, command.at),
        )
        return TenantView.of(tenant)

    @writes
    def define_quick_connects(self, command: DefineQuickConnects) -> TenantView:
        tenant = self.work.change(
            lambda: self._tenant(command.tenant),
            lambda tenant: tenant.define_quick_connects(command.quick_connects, command.at),
        )
        return TenantView.of(tenant)

    @writes
    def set_wrap_up_policy(self, command: SetWrapUpPolicy) -> TenantView:
        tenant = self.work.change(
            lambda: self._tenant(command.tenant),
            lambda tenant: tenant.set_wrap_up_policy(command.policy, command.at),
        )
        return TenantView.of(tenant)

    @writes
    def set_default_region(self, command: SetDefaultRegion) -> TenantView:
        """Where national numbers of this tenant's callers and records are read."""
        region = checked_region(command.region)
        tenant = self.work.change(
            lambda: self._tenant(command.tenant),
            lambda tenant: tenant.set_default_region(region, command.at),
        )
        return TenantView.of(tenant)

    @writes
    def close_popped_tabs(self, command: ClosePoppedTabs) -> TenantView:
        tenant = self.work.change(
            lambda: self._tenant(command.tenant),
            lambda tenant: tenant.close_popped_tabs(command.close, command.at),
        )
        return TenantView.of(tenant)

    def tenant(self, slug: str) -> TenantView:
        return TenantView.of(self._tenant(slug))

    def _tenant(self, slug: str) -> Tenant:
        return tenant_named(self.work, slug)
