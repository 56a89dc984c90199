//! The browser half of Slipway: it only hydrates the server-rendered portal.
//! Everything it runs lives in the `app` crate.

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(app::App);
}
