//! Page header, loading, empty and error states, and the inline error of a form.

use crate::error::AppError;
use leptos::prelude::*;

#[component]
pub fn PageHeader(
    title: &'static str,
    #[prop(optional)] subtitle: &'static str,
    #[prop(optional)] children: Option<Children>,
) -> AnyView {
    view! {
        <div class="page-header">
            <div>
                <h1>{title}</h1>
                {(!subtitle.is_empty()).then(|| view! { <p class="subtitle">{subtitle}</p> })}
            </div>
            <div class="page-actions">{children.map(|c| c())}</div>
        </div>
    }
    .into_any()
}

/// A destructive action behind a question: the first button only asks, saying what will happen;
/// the question's own button (inside the same form) does it, and Cancel — which takes the focus,
/// so Enter on the keyboard is the safe answer — or Escape closes it.
#[component]
pub fn ConfirmSubmit(
    /// The button's text, and the confirming button's.
    label: &'static str,
    class: &'static str,
    /// What will happen, in a sentence.
    question: String,
    #[prop(optional)] disabled: bool,
    #[prop(optional, into)] title: Option<String>,
    #[prop(optional, into)] aria_label: Option<String>,
) -> AnyView {
    let open = RwSignal::new(false);
    let cancel = NodeRef::<leptos::html::Button>::new();
    Effect::new(move |_| {
        if open.get() {
            if let Some(button) = cancel.get() {
                let _ = button.focus();
            }
        }
    });
    let id = format!("confirm-{}", label.to_lowercase().replace(' ', "-"));
    let described = id.clone();
    view! {
        <span class="confirm-host">
            <button
                type="button"
                class=class
                disabled=disabled
                title=title
                aria-label=aria_label
                aria-haspopup="dialog"
                aria-expanded=move || open.get().to_string()
                on:click=move |_| open.set(true)
            >
                {label}
            </button>
            <Show when=move || open.get()>
                <div
                    class="confirm"
                    role="alertdialog"
                    aria-describedby=described.clone()
                    on:keydown=move |ev| {
                        if ev.key() == "Escape" {
                            open.set(false);
                        }
                    }
                >
                    <p id=id.clone()>{question.clone()}</p>
                    <div class="button-row">
                        <button type="button" class="button" node_ref=cancel on:click=move |_| open.set(false)>
                            "Cancel"
                        </button>
                        <button type="submit" class="button danger">{label}</button>
                    </div>
                </div>
            </Show>
        </span>
    }
    .into_any()
}

#[component]
pub fn Loading(#[prop(default = "Loading…")] label: &'static str) -> AnyView {
    view! {
        <div class="loading" role="status" aria-live="polite">
            <span class="spinner" aria-hidden="true"></span>
            <span>{label}</span>
        </div>
    }
    .into_any()
}

#[component]
pub fn EmptyState(title: &'static str, #[prop(optional)] children: Option<Children>) -> AnyView {
    view! {
        <div class="empty-state">
            <svg class="empty-icon" viewBox="0 0 48 48" aria-hidden="true">
                <rect x="6" y="10" width="36" height="28" rx="4" fill="none" stroke="currentColor" stroke-width="2.5" />
                <path d="M6 20h36" stroke="currentColor" stroke-width="2.5" />
            </svg>
            <h2>{title}</h2>
            {children.map(|c| view! { <div class="empty-body">{c()}</div> })}
        </div>
    }
    .into_any()
}

/// A refusal or failure, with the way forward where there is one. Rendered on the server, it
/// also gives the page its HTTP status, so a page that shows a refusal answers with it.
#[component]
pub fn ErrorPanel(error: AppError) -> AnyView {
    let status = error.status_code();
    #[cfg(feature = "ssr")]
    if let Some(options) = use_context::<leptos_axum::ResponseOptions>() {
        if let Ok(code) = axum::http::StatusCode::from_u16(status) {
            options.set_status(code);
        }
    }
    let title = error.title();
    let message = error.to_string();
    let action = match error {
        AppError::Unauthorized => Some(view! { <a class="button primary" href="/auth/signin">"Sign in"</a> }.into_any()),
        AppError::Forbidden(_) => Some(
            view! {
                <p class="hint">"Ask an administrator for the role, or go back to "<a href="/">"your home page"</a>"."</p>
            }
            .into_any(),
        ),
        _ => None,
    };
    view! {
        <section class="error-panel" role="alert" data-status=status>
            <div class="error-code">{status}</div>
            <div>
                <h2>{title}</h2>
                <p>{message}</p>
                {action}
            </div>
        </section>
    }
    .into_any()
}

/// The error of the last submission of a form, if any, next to the form.
#[component]
pub fn FormError<T: Clone + Send + Sync + 'static>(
    result: Signal<Option<Result<T, AppError>>>,
) -> AnyView {
    (move || match result.get() {
        Some(Err(error)) => {
            let text = error.to_string();
            Some(view! { <p class="form-error" role="alert">{text}</p> })
        }
        _ => None,
    })
    .into_any()
}

/// Runs `tick` once every `every` in the browser until `done` turns true, never starting one
/// while the previous is still running; stops when the calling component is dropped. On the
/// server it does nothing (effects do not run there). Live logs use it.
pub fn poll_until<F, Fut>(done: RwSignal<bool>, every: std::time::Duration, tick: F)
where
    F: Fn() -> Fut + Clone + 'static,
    Fut: std::future::Future<Output = ()> + 'static,
{
    let busy = RwSignal::new(false);
    Effect::new(move |_| {
        if done.get_untracked() {
            return;
        }
        let tick = tick.clone();
        let handle = set_interval_with_handle(
            move || {
                if done.get_untracked() || busy.get_untracked() {
                    return;
                }
                busy.set(true);
                let running = tick();
                leptos::task::spawn_local(async move {
                    running.await;
                    busy.set(false);
                });
            },
            every,
        );
        on_cleanup(move || {
            if let Ok(handle) = handle {
                handle.clear();
            }
        });
    });
}
