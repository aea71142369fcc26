//! Permission groups and memberships (`/api/permissions/group`, `/api/permissions/membership`):
//! superusers (and, on Pro/Enterprise with advanced permissions, group managers for their
//! groups) list, create, rename and delete groups, and add, remove and clear memberships.
//!
//! Magic groups (All Users, Administrators) cannot be renamed or deleted (400); nobody joins
//! or leaves All Users (400); Administrators membership **is** superuser status, so adding it
//! makes an admin and removing it ends one, and the last active admin cannot leave (400).

use std::collections::BTreeMap;
use std::sync::Arc;

use reqwest::Method;

use super::Metabase;
use super::models::{
    self, Group, GroupId, GroupMember, ListGroups, Membership, MembershipId, NewGroup, NewMembership, UserId,
};
use crate::error::Result;
use crate::http::Call;
use crate::pager::{Fetch, Listing, Pager, decode_later};

impl Metabase {
    /// A call on `/api/permissions/group/{id}…` (the id is typed, so never 0).
    fn group_call(
        &self,
        op: &'static str,
        method: Method,
        route: &'static str,
        id: &GroupId,
    ) -> Result<Call<'_>> {
        self.call(op, method, route, &[id.to_string().as_str()])
    }

    /// A call on `/api/permissions/membership/{id}…`.
    fn membership_call(
        &self,
        op: &'static str,
        method: Method,
        route: &'static str,
        id: &MembershipId,
    ) -> Result<Call<'_>> {
        self.call(op, method, route, &[id.to_string().as_str()])
    }

    fn groups_call(&self, query: &ListGroups) -> Result<Call<'_>> {
        Ok(self
            .call("metabase::list_groups", Method::GET, "api/permissions/group", &[])?
            .query_struct(query)?
            .idempotent())
    }

    /// `GET /api/permissions/group`: the groups, ordered by name, each with its
    /// [`member_count`](Group::member_count) (active members, API-key users included). The
    /// server answers a bare array: with `limit`/`offset` one page of it, without them all.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use userapi::metabase::{ListGroups, MagicGroup};
    /// # let fake = userapi_fake::metabase::FakeMetabase::start().await?;
    /// let groups = fake.api()?.list_groups(&ListGroups::new()).await?;
    /// let admins = groups.iter().find(|g| g.magic_group_type == Some(MagicGroup::Admin)).unwrap();
    /// assert_eq!(admins.name.as_deref(), Some("Administrators"));
    /// assert_eq!(admins.member_count, Some(2)); // the admin, and the seeded key's user
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// HTTP 403 for a caller who is not a superuser (or, on Pro/Enterprise, a group
    /// manager); 401 without credentials.
    pub async fn list_groups(&self, query: &ListGroups) -> Result<Vec<Group>> {
        self.groups_call(query)?.send().await
    }

    /// Every group, as a [`Pager`]: `query.limit` per page (default 50), from `query.offset`.
    /// The server tells no total, so pages are read until a short one; a server that ignores
    /// paging ends the stream with [`ErrorKind::Protocol`](crate::ErrorKind::Protocol) rather
    /// than looping.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use userapi::metabase::ListGroups;
    /// # let fake = userapi_fake::metabase::FakeMetabase::start().await?;
    /// let all = fake.api()?.groups(ListGroups::new().limit(2)).try_collect().await?;
    /// assert_eq!(all.len(), 3); // two pages
    /// # Ok(()) }
    /// ```
    pub fn groups(&self, query: ListGroups) -> Pager<Group> {
        let page_size = query.limit.unwrap_or(50).max(1);
        let start = query.offset.unwrap_or(0);
        let api = self.clone();
        let fetch: Fetch<Group> = Arc::new(move |offset, limit| {
            let api = api.clone();
            let query = query.clone().offset(offset).limit(limit);
            Box::pin(async move {
                let raw = api.groups_call(&query)?.send_raw().await?;
                Ok(decode_later(raw, Listing::items))
            })
        });
        Pager::new(fetch, |group| group.id.get(), start, page_size)
    }

    /// `GET /api/permissions/group/:id`: one group with its [`members`](Group::members)
    /// (active users, each with the [`membership_id`](GroupMember::membership_id) that
    /// [`remove_membership`](Self::remove_membership) takes).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use userapi_fake::metabase::{ADMIN_GROUP, ADMIN_ID};
    /// # let fake = userapi_fake::metabase::FakeMetabase::start().await?;
    /// let admins = fake.api()?.get_group(&ADMIN_GROUP).await?;
    /// assert!(admins.members.unwrap().iter().any(|m| m.id == ADMIN_ID));
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// HTTP 404 for an unknown group; 403 for a caller who may not read it.
    pub async fn get_group(&self, id: &GroupId) -> Result<Group> {
        self.group_call(
            "metabase::get_group",
            Method::GET,
            "api/permissions/group/{id}",
            id,
        )?
        .idempotent()
        .send()
        .await
    }

    /// `POST /api/permissions/group`: creates a group (superusers only; 200 with the group).
    /// Never retried (a repeat meets its own name).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use userapi::metabase::NewGroup;
    /// # let fake = userapi_fake::metabase::FakeMetabase::start().await?;
    /// let api = fake.api()?;
    /// let group = api.create_group(&NewGroup::new("Finance")).await?;
    /// assert_eq!(group.name.as_deref(), Some("Finance"));
    /// let again = api.create_group(&NewGroup::new("FINANCE")).await.unwrap_err();
    /// assert_eq!(again.service_message(), Some("A group with that name already exists."));
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) for a blank name. HTTP 400
    /// `A group with that name already exists.` (names compare case-insensitively); 402 for a
    /// tenant group without the `tenants` feature; 403 for a caller who is not a superuser.
    pub async fn create_group(&self, group: &NewGroup) -> Result<Group> {
        const OP: &str = "metabase::create_group";
        group.check(OP)?;
        self.call(OP, Method::POST, "api/permissions/group", &[])?
            .json(group)?
            .send()
            .await
    }

    /// `PUT /api/permissions/group/:id`: renames a group (renaming is all it does). The same
    /// rename twice gives the same group, so it may be retried.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use userapi_fake::metabase::{ADMIN_GROUP, ANALYSTS_GROUP};
    /// # let fake = userapi_fake::metabase::FakeMetabase::start().await?;
    /// let api = fake.api()?;
    /// let renamed = api.rename_group(&ANALYSTS_GROUP, "Data team").await?;
    /// assert_eq!(renamed.name.as_deref(), Some("Data team"));
    /// let magic = api.rename_group(&ADMIN_GROUP, "Bosses").await.unwrap_err();
    /// assert_eq!(magic.status().map(|s| s.as_u16()), Some(400)); // a magic group
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) for a blank name. HTTP 400
    /// for a taken name or a magic group (`You cannot edit or delete the 'Administrators'
    /// permissions group!`); 404 for an unknown group; 403 without the rights.
    pub async fn rename_group(&self, id: &GroupId, name: &str) -> Result<Group> {
        const OP: &str = "metabase::rename_group";
        let body = models::GroupName { name };
        body.check(OP)?;
        self.group_call(OP, Method::PUT, "api/permissions/group/{id}", id)?
            .json(&body)?
            .idempotent()
            .send()
            .await
    }

    /// `DELETE /api/permissions/group/:id`: deletes a group and its memberships (204). The
    /// server answers 204 for an unknown id too, so this may be retried.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use userapi_fake::metabase::ANALYSTS_GROUP;
    /// use userapi::metabase::ListGroups;
    /// # let fake = userapi_fake::metabase::FakeMetabase::start().await?;
    /// let api = fake.api()?;
    /// api.delete_group(&ANALYSTS_GROUP).await?;
    /// assert_eq!(api.list_groups(&ListGroups::new()).await?.len(), 2);
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// HTTP 400 for a magic group; 403 without the rights.
    pub async fn delete_group(&self, id: &GroupId) -> Result<()> {
        self.group_call(
            "metabase::delete_group",
            Method::DELETE,
            "api/permissions/group/{id}",
            id,
        )?
        .idempotent()
        .send_empty()
        .await
    }

    /// `PUT /api/permissions/membership/:group_id/clear`: removes every member of a group; the
    /// group stays (204, also for an empty group, so it may be retried).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use userapi_fake::metabase::{ADMIN_GROUP, ANALYSTS_GROUP};
    /// # let fake = userapi_fake::metabase::FakeMetabase::start().await?;
    /// let api = fake.api()?;
    /// api.clear_group(&ANALYSTS_GROUP).await?;
    /// assert_eq!(api.get_group(&ANALYSTS_GROUP).await?.members.map(|m| m.len()), Some(0));
    /// assert!(api.clear_group(&ADMIN_GROUP).await.is_err()); // never Administrators
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// HTTP 400 for Administrators (`Invalid Request.`) and All Users; 404 for an unknown
    /// group; 403 without the rights.
    pub async fn clear_group(&self, id: &GroupId) -> Result<()> {
        self.group_call(
            "metabase::clear_group",
            Method::PUT,
            "api/permissions/membership/{id}/clear",
            id,
        )?
        .idempotent()
        .send_empty()
        .await
    }

    /// `GET /api/permissions/membership`: every membership, by user (deactivated and API-key
    /// users included; the server keys its answer by user id).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use userapi_fake::metabase::{ADMIN_GROUP, ADMIN_ID};
    /// # let fake = userapi_fake::metabase::FakeMetabase::start().await?;
    /// let by_user = fake.api()?.list_memberships().await?;
    /// assert!(by_user[&ADMIN_ID].iter().any(|m| m.group_id == ADMIN_GROUP));
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// HTTP 403 for a caller who is not a superuser (or a group manager); 401 without
    /// credentials.
    pub async fn list_memberships(&self) -> Result<BTreeMap<UserId, Vec<Membership>>> {
        let wire: models::MembershipsWire = self
            .call(
                "metabase::list_memberships",
                Method::GET,
                "api/permissions/membership",
                &[],
            )?
            .idempotent()
            .send()
            .await?;
        Ok(wire)
    }

    /// `POST /api/permissions/membership`: a user joins a group. The server answers the
    /// group's whole member list; the new membership is the member whose id is the user's
    /// (see [`GroupMember::membership_id`]). Joining Administrators makes the user a
    /// superuser. Never retried (a second insert fails on the server).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use userapi::metabase::NewMembership;
    /// use userapi_fake::metabase::{ADMIN_GROUP, USER_ID};
    /// # let fake = userapi_fake::metabase::FakeMetabase::start().await?;
    /// let api = fake.api()?;
    /// let members = api.add_membership(&NewMembership::new(ADMIN_GROUP, USER_ID)).await?;
    /// assert!(members.iter().any(|m| m.id == USER_ID && m.membership_id.is_some()));
    /// assert_eq!(api.get_user(&USER_ID).await?.is_superuser, Some(true));
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// HTTP 400 for All Users (`You cannot add or remove users to/from the 'All Users'
    /// group.`) or an admin made group manager; 402 for `is_group_manager` without
    /// advanced permissions; 403 without the rights; 500 when the user is in the group
    /// already (or the group or user does not exist, on older servers).
    pub async fn add_membership(&self, membership: &NewMembership) -> Result<Vec<GroupMember>> {
        self.call(
            "metabase::add_membership",
            Method::POST,
            "api/permissions/membership",
            &[],
        )?
        .json(membership)?
        .send()
        .await
    }

    /// `PUT /api/permissions/membership/:id`: makes the member a manager of the group, or
    /// not (Pro/Enterprise with advanced permissions; open source answers 402, even for a
    /// superuser). May be retried.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use userapi::metabase::{MembershipId, NewMembership};
    /// use userapi_fake::metabase::{ANALYSTS_GROUP, Edition, FakeMetabase, USER_ID};
    /// let fake = FakeMetabase::builder().edition(Edition::Enterprise).start().await?;
    /// let api = fake.api()?;
    /// let members = api.get_group(&ANALYSTS_GROUP).await?.members.unwrap();
    /// let rasta = members.iter().find(|m| m.id == USER_ID).unwrap().membership_id.unwrap();
    /// let row = api.set_group_manager(&rasta, true).await?;
    /// assert_eq!(row.is_group_manager, Some(true));
    ///
    /// let open_source = FakeMetabase::start().await?;
    /// let refused = open_source.api()?.set_group_manager(&rasta, true).await.unwrap_err();
    /// assert_eq!(refused.status().map(|s| s.as_u16()), Some(402));
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// HTTP 402 without advanced permissions; 400 `Admin cannot be a group manager.`; 404 for
    /// an unknown membership; 403 without the rights.
    pub async fn set_group_manager(&self, id: &MembershipId, is_group_manager: bool) -> Result<Membership> {
        self.membership_call(
            "metabase::set_group_manager",
            Method::PUT,
            "api/permissions/membership/{id}",
            id,
        )?
        .json(&models::ManagerFlag { is_group_manager })?
        .idempotent()
        .send()
        .await
    }

    /// `DELETE /api/permissions/membership/:id`: removes one user from one group (204).
    /// Leaving Administrators ends the user's superuser status. Not retried: a second delete
    /// is a 404.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use userapi_fake::metabase::{ANALYSTS_GROUP, USER_ID};
    /// # let fake = userapi_fake::metabase::FakeMetabase::start().await?;
    /// let api = fake.api()?;
    /// let by_user = api.list_memberships().await?;
    /// let analyst = by_user[&USER_ID].iter().find(|m| m.group_id == ANALYSTS_GROUP).unwrap();
    /// api.remove_membership(&analyst.membership_id).await?;
    /// assert!(api.remove_membership(&analyst.membership_id).await.unwrap_err().is_not_found());
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// HTTP 404 for an unknown membership (even for a non-admin); 400 for an All Users
    /// membership, or the last active admin's Administrators membership; 403 without the
    /// rights.
    pub async fn remove_membership(&self, id: &MembershipId) -> Result<()> {
        self.membership_call(
            "metabase::remove_membership",
            Method::DELETE,
            "api/permissions/membership/{id}",
            id,
        )?
        .send_empty()
        .await
    }
}
