//! Employee administration of a box: `GET /GetEmployees`, `GET /GetEmployee`,
//! `POST /CreateEmployee`, `POST /UpdateEmployee`, `POST /DeleteEmployee`.
//!
//! Only administrators of the box's organization may call them; ids travel in the query
//! string only (`boxId`, `userId`).

use std::sync::Arc;

use reqwest::Method;
use reqwest::header::{CONTENT_LENGTH, CONTENT_TYPE, HeaderValue};

use super::{
    BoxId, Diadoc, Employee, EmployeeList, EmployeeToCreate, EmployeeToUpdate, JSON_UTF8, ListEmployees,
    MAX_EMPLOYEES_PER_PAGE, SERVICE, UserId,
};
use crate::error::Result;
use crate::http::Call;
use crate::pager::{Fetch, Listing, Pager, decode_later};

impl Diadoc {
    /// `GET /GetEmployees?boxId=&page=&count=`: one page of the box's employees, with the
    /// number of employees in all ([`EmployeeList::total_count`]). Pages count from 1, up to
    /// 50 employees each (the server's default). Administrators only. Safe to repeat
    /// (retried by policy). [`employees`](Self::employees) reads every page.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput), before sending, for page 0
    /// or a count outside 1 to 50. [`ErrorKind::Http`](crate::ErrorKind::Http) with 400 for a
    /// parameter the server refuses, 401 for refused credentials, 402 when the box's API
    /// subscription has ended, 403 when the box is not the caller's or the caller is not its
    /// administrator, 404 when there is no such box; [`ErrorKind::Decode`](crate::ErrorKind::Decode)
    /// if the body is not an `EmployeeList`.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use userapi::diadoc::{BoxId, ListEmployees};
    /// use userapi_fake::diadoc::{BOX_ID, FakeDiadoc};
    /// let fake = FakeDiadoc::start().await?;
    /// let admin = fake.api_with(fake.admin_auth())?;
    /// let page = admin.list_employees(&BoxId::new(BOX_ID)?, &ListEmployees::new().count(1)).await?;
    /// assert_eq!(page.employees.len(), 1);
    /// assert_eq!(page.total_count, Some(2));
    /// # Ok(()) }
    /// ```
    pub async fn list_employees(&self, box_id: &BoxId, query: &ListEmployees) -> Result<EmployeeList> {
        const OP: &str = "diadoc::list_employees";
        query.check(OP)?;
        list_call(self, OP, box_id, query)?.send().await
    }

    /// Every employee of the box, as a [`Pager`] over `GET /GetEmployees`: pages of
    /// `query.count` (default 50) from `query.page` (default 1). The first page tells the
    /// total, after which up to [`Pager::concurrency`] pages are fetched at once, items still
    /// in order.
    ///
    /// A page that fails ends the stream with its error (see
    /// [`list_employees`](Self::list_employees)); so does a `query` out of range, before
    /// anything is sent.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use userapi::diadoc::{BoxId, ListEmployees};
    /// use userapi_fake::diadoc::{BOX_ID, FakeDiadoc};
    /// let fake = FakeDiadoc::start().await?;
    /// let admin = fake.api_with(fake.admin_auth())?;
    /// let mut all = admin.employees(&BoxId::new(BOX_ID)?, ListEmployees::new().count(1));
    /// let mut positions = Vec::new();
    /// while let Some(employee) = all.next().await {
    ///     positions.push(employee?.position);
    /// }
    /// assert_eq!(positions.len(), 2);
    /// assert_eq!(all.total(), Some(2));
    /// # Ok(()) }
    /// ```
    pub fn employees(&self, box_id: &BoxId, query: ListEmployees) -> Pager<Employee> {
        const OP: &str = "diadoc::employees";
        let page_size = u64::from(query.count.unwrap_or(MAX_EMPLOYEES_PER_PAGE));
        let start = u64::from(query.page.unwrap_or(1).saturating_sub(1)).saturating_mul(page_size);
        let (api, box_id) = (self.clone(), box_id.clone());
        let fetch: Fetch<Employee> = Arc::new(move |offset, limit| {
            let (api, box_id) = (api.clone(), box_id.clone());
            Box::pin(async move {
                query.check(OP)?;
                // Pages are numbered: the page holding `offset`, less what comes before it
                // (a pager that carries on after a short page asks for any offset).
                let count = u32::try_from(limit).unwrap_or(MAX_EMPLOYEES_PER_PAGE);
                let page = u32::try_from(offset / limit + 1).unwrap_or(u32::MAX);
                let skip = usize::try_from(offset % limit).unwrap_or(usize::MAX);
                let query = ListEmployees::new().page(page).count(count);
                let raw = list_call(&api, OP, &box_id, &query)?.send_raw().await?;
                Ok(decode_later(raw, move |list: EmployeeList| Listing {
                    items: list.employees.into_iter().skip(skip).collect(),
                    total: list.total_count,
                    offset: None,
                }))
            })
        });
        Pager::new(
            fetch,
            |e: &Employee| hash_key(e.user.user_id.as_str()),
            start,
            page_size,
        )
    }

    /// `GET /GetEmployee?boxId=&userId=`: one employee of the box. Administrators only. Safe
    /// to repeat (retried by policy).
    ///
    /// # Errors
    /// [`ErrorKind::Http`](crate::ErrorKind::Http) with 401 for refused credentials, 402 when
    /// the box's API subscription has ended, 403 when the box is not the caller's or the
    /// caller is not its administrator, 404 ([`Error::is_not_found`](crate::Error::is_not_found))
    /// when the user is not an employee of the box; [`ErrorKind::Decode`](crate::ErrorKind::Decode)
    /// if the body is not an `Employee`.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use userapi::diadoc::{BoxId, UserId};
    /// use userapi_fake::diadoc::{BOX_ID, FakeDiadoc, USER_ID};
    /// let fake = FakeDiadoc::start().await?;
    /// let admin = fake.api_with(fake.admin_auth())?;
    /// let anna = admin.get_employee(&BoxId::new(BOX_ID)?, &UserId::new(USER_ID)?).await?;
    /// assert_eq!(anna.position.as_deref(), Some("Бухгалтер"));
    /// # Ok(()) }
    /// ```
    pub async fn get_employee(&self, box_id: &BoxId, user_id: &UserId) -> Result<Employee> {
        self.client
            .call(&SERVICE, "diadoc::get_employee", Method::GET, "GetEmployee", &[])?
            .query("boxId", box_id.as_str())
            .query("userId", user_id.as_str())
            .idempotent()
            .send()
            .await
    }

    /// `POST /CreateEmployee?boxId=`: adds an employee to the box and returns it.
    /// Administrators only. Never retried: it sends the user an email, and by login it may
    /// create the user.
    ///
    /// By login, the Diadoc user with that login is added; when there is none, the service
    /// creates one with the name given, who comes back with `IsRegistered: false` and whose
    /// [`UserId`] changes once they register.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput), before sending, when the
    /// credentials are not exactly one of a login (an email address) and a certificate, the
    /// permissions lack a department (a GUID), the administrator flag or a documented access
    /// level, or a name lacks its last or first name. [`ErrorKind::Http`](crate::ErrorKind::Http)
    /// with 400 for a body the server refuses, 401, 402, 403 as for
    /// [`list_employees`](Self::list_employees), 409 when the user already is an employee of
    /// the box; [`ErrorKind::Decode`](crate::ErrorKind::Decode) if the body is not an `Employee`.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use userapi::diadoc::{BoxId, DocumentAccessLevel, EmployeeActionName, EmployeePermissions, EmployeeToCreate, FullName, HEAD_DEPARTMENT};
    /// use userapi_fake::diadoc::{BOX_ID, FakeDiadoc};
    /// let fake = FakeDiadoc::start().await?;
    /// let admin = fake.api_with(fake.admin_auth())?;
    /// let new = EmployeeToCreate::by_login(
    ///     "ivan@example.com",
    ///     EmployeePermissions::new(HEAD_DEPARTMENT, DocumentAccessLevel::AllDocuments)
    ///         .action(EmployeeActionName::SignDocuments, true),
    /// )
    /// .full_name(FullName::new("Иванов", "Иван"))
    /// .position("Бухгалтер");
    /// let ivan = admin.create_employee(&BoxId::new(BOX_ID)?, &new).await?;
    /// assert_eq!(ivan.user.is_registered, Some(false), "a new user, not registered yet");
    /// # Ok(()) }
    /// ```
    pub async fn create_employee(&self, box_id: &BoxId, employee: &EmployeeToCreate) -> Result<Employee> {
        const OP: &str = "diadoc::create_employee";
        employee.check(OP)?;
        self.client
            .call(&SERVICE, OP, Method::POST, "CreateEmployee", &[])?
            .query("boxId", box_id.as_str())
            .header(CONTENT_TYPE, JSON_UTF8)
            .json(employee)?
            .send()
            .await
    }

    /// `POST /UpdateEmployee?boxId=&userId=`: changes what `update` sets and returns the
    /// employee after the change. Administrators only. Never retried (the service does not
    /// say it is safe to repeat).
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput), before sending, for an
    /// update that sets nothing, a department id that is not a GUID, a level the service does
    /// not document, or a comment over 500 characters. [`ErrorKind::Http`](crate::ErrorKind::Http)
    /// with 400 for a change the server refuses, 401, 402, 403 as for
    /// [`list_employees`](Self::list_employees), 404 when the user is not an employee of the
    /// box; [`ErrorKind::Decode`](crate::ErrorKind::Decode) if the body is not an `Employee`.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use userapi::diadoc::{BoxId, EmployeeActionName, EmployeeToUpdate, UserId};
    /// use userapi_fake::diadoc::{BOX_ID, FakeDiadoc, USER_ID};
    /// let fake = FakeDiadoc::start().await?;
    /// let admin = fake.api_with(fake.admin_auth())?;
    /// let update = EmployeeToUpdate::new()
    ///     .position("Главный бухгалтер")
    ///     .action(EmployeeActionName::SignDocuments, false);
    /// let anna = admin.update_employee(&BoxId::new(BOX_ID)?, &UserId::new(USER_ID)?, &update).await?;
    /// assert_eq!(anna.position.as_deref(), Some("Главный бухгалтер"));
    /// assert_eq!(anna.permissions.unwrap().allows(EmployeeActionName::SignDocuments), Some(false));
    /// # Ok(()) }
    /// ```
    pub async fn update_employee(
        &self,
        box_id: &BoxId,
        user_id: &UserId,
        update: &EmployeeToUpdate,
    ) -> Result<Employee> {
        const OP: &str = "diadoc::update_employee";
        update.check(OP)?;
        self.client
            .call(&SERVICE, OP, Method::POST, "UpdateEmployee", &[])?
            .query("boxId", box_id.as_str())
            .query("userId", user_id.as_str())
            .header(CONTENT_TYPE, JSON_UTF8)
            .json(update)?
            .send()
            .await
    }

    /// `POST /DeleteEmployee?boxId=&userId=` (no body): removes the employee from the box's
    /// organization. Administrators only. The service documents it as idempotent (deleting
    /// an employee already deleted succeeds), so it is retried by policy.
    ///
    /// # Errors
    /// [`ErrorKind::Http`](crate::ErrorKind::Http) with 401, 402, 403 as for
    /// [`list_employees`](Self::list_employees), 404 when the user never was an employee of
    /// the box.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use userapi::diadoc::{BoxId, UserId};
    /// use userapi_fake::diadoc::{BOX_ID, FakeDiadoc, USER_ID};
    /// let fake = FakeDiadoc::start().await?;
    /// let admin = fake.api_with(fake.admin_auth())?;
    /// let (box_id, anna) = (BoxId::new(BOX_ID)?, UserId::new(USER_ID)?);
    /// admin.delete_employee(&box_id, &anna).await?;
    /// admin.delete_employee(&box_id, &anna).await?; // again: nothing to do, still a success
    /// assert!(admin.get_employee(&box_id, &anna).await.unwrap_err().is_not_found());
    /// # Ok(()) }
    /// ```
    pub async fn delete_employee(&self, box_id: &BoxId, user_id: &UserId) -> Result<()> {
        self.client
            .call(
                &SERVICE,
                "diadoc::delete_employee",
                Method::POST,
                "DeleteEmployee",
                &[],
            )?
            .query("boxId", box_id.as_str())
            .query("userId", user_id.as_str())
            // No body, but a length, as Kontur's Java SDK sends it (servers may want one on a POST).
            .header(CONTENT_LENGTH, HeaderValue::from_static("0"))
            .idempotent()
            .send_empty()
            .await
    }
}

/// `GET /GetEmployees` with the box and the page asked for.
fn list_call<'a>(
    api: &'a Diadoc,
    op: &'static str,
    box_id: &BoxId,
    query: &ListEmployees,
) -> Result<Call<'a>> {
    Ok(api
        .client
        .call(&SERVICE, op, Method::GET, "GetEmployees", &[])?
        .query("boxId", box_id.as_str())
        .query_struct(query)?
        .idempotent())
}

/// A stable 64-bit key of an id, for the pager's loop guards.
fn hash_key(id: &str) -> u64 {
    use std::hash::{BuildHasher, BuildHasherDefault, DefaultHasher};
    BuildHasherDefault::<DefaultHasher>::default().hash_one(id)
}
