//! The page for an address that matches no route.

use crate::components::common::ErrorPanel;
use crate::error::AppError;
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn NotFoundPage() -> AnyView {
    view! {
        <Title text="Not found" />
        <ErrorPanel error=AppError::NotFound("There is no page at this address.".into()) />
    }
    .into_any()
}
