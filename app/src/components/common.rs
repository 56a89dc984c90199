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
    // Unique on the page (two rows' Delete ask different questions), and the same on the
    // server and in the browser, which hydrates against it.
    let fingerprint = question.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    });
    let id = format!(
        "confirm-{}-{fingerprint:016x}",
        label.to_lowercase().replace(' ', "-")
    );
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
        // Every problem of the submission at once, each naming its field.
        Some(Err(error)) if error.problems().len() > 1 => Some(
            view! {
                <div class="form-error" role="alert">
                    <p>{format!("Nothing was saved: {} problems.", error.problems().len())}</p>
                    <ul>
                        {error.problems().into_iter().map(|(field, message)| view! {
                            <li><strong>{field_label(field)}</strong>": "{message.to_string()}</li>
                        }).collect_view()}
                    </ul>
                </div>
            }
            .into_any(),
        ),
        Some(Err(error)) => {
            let text = error.to_string();
            Some(view! { <p class="form-error" role="alert">{text}</p> }.into_any())
        }
        _ => None,
    })
    .into_any()
}

/// How a form names a field in a message: `input[git_ref]` and `git_ref` as "git ref",
/// `values.cidr_block` as "cidr_block".
pub fn field_label(field: &str) -> String {
    let field = field.strip_prefix("values.").unwrap_or(field);
    field.replace('_', " ")
}

/// The problem the last submission had with `field`, under it, announced when it appears; its
/// input points at it with `aria-describedby` = `id`.
#[component]
pub fn FieldMessage<T: Clone + Send + Sync + 'static>(
    result: Signal<Option<Result<T, AppError>>>,
    #[prop(into)] field: String,
    #[prop(into)] id: String,
) -> AnyView {
    view! {
        <small class="field-error" id=id role="alert">
            {move || match result.get() {
                Some(Err(error)) => error.message_for(&field),
                _ => None,
            }}
        </small>
    }
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

/// A secret's state under the button that makes it: the new secret once, with where it goes
/// (`after`), the failure, or whether one is set.
#[component]
pub fn SecretShownOnce(
    result: Signal<Option<Result<String, AppError>>>,
    /// What to do with it, after "Copy it now: it is not shown again."
    after: &'static str,
    has_secret: bool,
    set: &'static str,
    unset: &'static str,
) -> AnyView {
    (move || match result.get() {
        Some(Ok(secret)) => view! {
            <div class="notice" role="status">
                <p><strong>"Copy it now: it is not shown again."</strong>" "{after}</p>
                <pre class="code-block"><code>{secret}</code></pre>
            </div>
        }
        .into_any(),
        Some(Err(error)) => view! { <ErrorPanel error /> }.into_any(),
        None => view! { <p>{if has_secret { set } else { unset }}</p> }.into_any(),
    })
    .into_any()
}
