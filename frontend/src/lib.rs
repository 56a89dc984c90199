//! The browser half of Slipway: it only hydrates the server-rendered portal.
//! Everything it runs lives in the `app` crate.

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    // Routes are lazy (their code is fetched on demand), so hydration waits for the current
    // route's part of the bundle before it walks the server's markup.
    leptos::mount::hydrate_lazy(app::App);
}
