//! Pages that follow the world: a page names the topics it shows (`release`, `repository:shop`)
//! and reads its data again when the server says one changed (server-sent events on
//! `/api/events`; see `server::live`). The browser's `EventSource` reconnects by itself.

#[cfg(feature = "hydrate")]
use leptos::prelude::*;

/// Runs `changed` whenever something under `topics` changes on the server, for as long as the
/// calling component lives (following the new topics when they change: another page's
/// parameters). In the browser only: on the server it does nothing.
pub fn follow(topics: impl Fn() -> Vec<String> + 'static, changed: impl Fn() + 'static) {
    #[cfg(feature = "hydrate")]
    {
        use leptos::wasm_bindgen::{closure::Closure, JsCast};
        let changed = std::rc::Rc::new(changed);
        Effect::new(move |_| {
            let topics = topics();
            if topics.is_empty() {
                return;
            }
            let query: String = topics
                .join(",")
                .bytes()
                .map(|b| match b {
                    b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b',' | b':' => {
                        (b as char).to_string()
                    }
                    other => format!("%{other:02X}"),
                })
                .collect();
            let Ok(source) =
                leptos::web_sys::EventSource::new(&format!("/api/events?topics={query}"))
            else {
                return;
            };
            let changed = changed.clone();
            let listener =
                Closure::<dyn Fn(leptos::web_sys::MessageEvent)>::new(move |_| changed());
            let _ = source
                .add_event_listener_with_callback("change", listener.as_ref().unchecked_ref());
            let open = StoredValue::new_local(Some((source, listener)));
            on_cleanup(move || {
                open.update_value(|open| {
                    if let Some((source, _listener)) = open.take() {
                        source.close();
                    }
                });
            });
        });
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = (topics, changed);
    }
}
