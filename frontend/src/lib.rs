//! The browser half of Slipway: it only hydrates the server-rendered portal.
//! Everything it runs lives in the `app` crate.

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    // Routes are lazy (each area's code is fetched on demand), so hydration is async: it waits
    // for the current route's part of the bundle before it walks the server's markup.
    _ = any_spawner::Executor::init_wasm_bindgen();
    leptos::task::spawn_local(async {
        let body = leptos::prelude::document()
            .body()
            .expect("a server-rendered page has a body");
        let mounted = leptos::mount::hydrate_from_async(body.clone(), app::App).await;
        mounted.forget();
        // Said once the whole page — the route's lazily loaded part included — listens: until
        // then a form submits natively (and lands back on its page), so nothing waits for this
        // but the journeys, which must not click into a page that is not yet live.
        _ = body.set_attribute("data-hydrated", "true");
    });
}
