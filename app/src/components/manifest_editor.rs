//! The manifest editor: the text with line numbers checked as you type, the errors that jump to
//! their line, the form that saves it as a revision, and the list of revisions; the repository
//! and release manifest editors are both this editor with their own parser and save.

use crate::components::badges::DiffLines;
use crate::domain::manifests::ManifestError;
use leptos::prelude::*;

/// A manifest's revisions, newest first, the newest few with what they changed.
#[component]
pub fn RevisionList(revisions: Vec<crate::wire::repositories::RevisionRow>) -> impl IntoView {
    view! {
        <section class="card">
            <h2>"Revisions"</h2>
            <ol class="revision-list">
                {revisions.iter().map(|r| {
                    let changed = r.changes.iter().filter(|l| !matches!(l, crate::domain::resources::DiffLine::Same(_))).count();
                    view! {
                        <li>
                            <strong>{format!("Revision {}", r.revision)}</strong><span class="muted">{format!(" · {} by {}", r.created_at, r.author)}</span>
                            {(changed > 0).then(|| view! {
                                <details class="code-file revision-changes">
                                    <summary><span>{format!("{changed} line{} changed", if changed == 1 { "" } else { "s" })}</span></summary>
                                    <DiffLines lines=r.changes.clone() />
                                </details>
                            })}
                        </li>
                    }
                }).collect_view()}
            </ol>
        </section>
    }
}

/// One error under the editor: where, why, and the line with a caret.
/// The editor's errors: how many, then each where it is.
pub fn error_list(errors: &[ManifestError], text: RwSignal<String>) -> impl IntoView {
    view! {
        <h2 class="check-bad">{format!("{} error{}", errors.len(), if errors.len() == 1 { "" } else { "s" })}</h2>
        <ul class="manifest-errors">
            {text.with_untracked(|t| errors.iter().map(|e| error_view(e, t)).collect_view())}
        </ul>
    }
}

pub fn error_view(error: &ManifestError, text: &str) -> AnyView {
    let line: String = text
        .lines()
        .nth(error.pos.line.saturating_sub(1))
        .unwrap_or_default()
        .chars()
        .take(160)
        .collect();
    let caret = (error.pos.column <= line.chars().count() + 1)
        .then(|| format!("{}^", " ".repeat(error.pos.column.saturating_sub(1))));
    let (at_line, at_column) = (error.pos.line, error.pos.column);
    view! {
        <li class="manifest-error">
            <p>
                <button type="button" class="link-button" title="Show it in the text"
                    on:click=move |_| go_to(at_line, at_column)>
                    {format!("Line {at_line}, column {at_column}")}
                </button>
                ": "{error.message.clone()}
            </p>
            {(!line.is_empty()).then(|| view! { <pre class="error-excerpt"><code>{line.clone()}{caret.map(|c| format!("\n{c}"))}</code></pre> })}
        </li>
    }
    .into_any()
}

/// Puts the editor's cursor at `line`:`column` (1-based, in characters), selecting the word
/// there, and scrolls it into view. Browser only (a click handler).
pub fn go_to(line: usize, column: usize) {
    use leptos::wasm_bindgen::JsCast;
    let Some(area) = document()
        .get_element_by_id(EDITOR_ID)
        .and_then(|e| e.dyn_into::<leptos::web_sys::HtmlTextAreaElement>().ok())
    else {
        return;
    };
    let text = area.value();
    let lines: Vec<&str> = text.split('\n').collect();
    let Some(target) = lines.get(line.saturating_sub(1)) else {
        return;
    };
    // The selection is counted in UTF-16 code units, as the DOM counts.
    let utf16 = |s: &str| s.encode_utf16().count() as u32;
    let start: u32 = lines[..line - 1].iter().map(|l| utf16(l) + 1).sum();
    let column_chars = column.saturating_sub(1);
    let column: u32 = target
        .chars()
        .take(column_chars)
        .map(|c| c.len_utf16() as u32)
        .sum();
    // The word there: up to the next blank or the line's end.
    let word: u32 = target
        .chars()
        .skip(column_chars)
        .take_while(|c| !c.is_whitespace())
        .map(|c| c.len_utf16() as u32)
        .sum();
    let _ = area.focus();
    let _ = area.set_selection_range(start + column, start + column + word);
    let per_line = area.scroll_height() / lines.len().max(1) as i32;
    area.set_scroll_top((line as i32 - 4).max(0) * per_line);
}

/// The text area of a manifest editor, with its file name, line count and line numbers (the
/// check's errors name lines); `invalid` while the in-browser check finds errors (shown in
/// `#manifest-check`). Leaving or reloading the page with unsaved edits asks first.
#[component]
pub fn ManifestText(text: RwSignal<String>, file: &'static str, invalid: Signal<bool>) -> AnyView {
    let lines = move || text.with(|t| t.split('\n').count().max(1));
    let initial = text.get_untracked();
    let unsaved = window_event_listener(leptos::ev::beforeunload, move |ev| {
        if text.with_untracked(|t| *t != initial) {
            ev.prevent_default();
        }
    });
    on_cleanup(move || unsaved.remove());
    let gutter = NodeRef::<leptos::html::Pre>::new();
    view! {
        <label class="editor-field">
            <span>{move || format!("{file} · {} lines", lines())}</span>
            <div class="editor-lines">
                <pre class="line-numbers" aria-hidden="true" node_ref=gutter>
                    {move || (1..=lines()).map(|n| n.to_string()).collect::<Vec<_>>().join("\n")}
                </pre>
                <textarea
                    id=EDITOR_ID
                    name="source"
                    class="manifest-editor"
                    spellcheck="false"
                    autocomplete="off"
                    wrap="off"
                    rows="28"
                    aria-invalid=move || invalid.get().to_string()
                    aria-describedby="manifest-check"
                    prop:value=move || text.get()
                    on:input=move |ev| text.set(event_target_value(&ev))
                    on:scroll=move |ev| {
                        use leptos::wasm_bindgen::JsCast;
                        let top = ev
                            .target()
                            .and_then(|t| t.dyn_into::<leptos::web_sys::Element>().ok())
                            .map_or(0, |t| t.scroll_top());
                        if let Some(gutter) = gutter.get() {
                            gutter.set_scroll_top(top);
                        }
                    }
                ></textarea>
            </div>
        </label>
    }
    .into_any()
}

/// The id of the manifest editor's text area (one editor per page).
pub const EDITOR_ID: &str = "manifest-source";

/// A manifest editor page: `checked` is the text run through the parser the server and the CLI
/// run (built for the browser), `valid` draws what a valid text means, and the page's `form`
/// wraps the fields in its own `ActionForm` (each kind saves through its own server function).
pub struct Editor<T: Send + Sync + 'static> {
    /// The section the editor belongs to: (href, name), the eyebrow link.
    pub section: (&'static str, &'static str),
    pub title: String,
    pub subtitle: String,
    /// The text's file name, above the text area.
    pub file: &'static str,
    /// The form's hidden fields: what is saved, and the revision it was read at.
    pub hidden: Vec<(&'static str, String)>,
    /// The submit button's label for a new manifest (an edit saves a revision).
    pub create_label: &'static str,
    pub creating: bool,
    /// Where Cancel goes.
    pub back: String,
    pub text: RwSignal<String>,
    pub checked: Memo<Result<T, Vec<ManifestError>>>,
    pub valid: fn(&T) -> AnyView,
}

impl<T: Send + Sync + 'static> Editor<T> {
    pub fn view(self, pending: Signal<bool>, form: impl FnOnce(AnyView) -> AnyView) -> AnyView {
        let Editor {
            section,
            title,
            subtitle,
            file,
            hidden,
            create_label,
            creating,
            back,
            text,
            checked,
            valid,
        } = self;
        let invalid = Signal::derive(move || checked.with(|c| c.is_err()));
        let fields = view! {
            {hidden.into_iter().map(|(name, value)| view! { <input type="hidden" name=name value=value /> }).collect_view()}
            <ManifestText text file invalid />
            <div class="form-actions">
                <button type="submit" class="button primary" disabled=move || invalid.get() || pending.get()>
                    {move || if pending.get() { "Saving…" } else if creating { create_label } else { "Save revision" }}
                </button>
                <a class="button" href=back>"Cancel"</a>
            </div>
        }
        .into_any();
        view! {
            <div class="page-header">
                <div>
                    <p class="eyebrow"><a href=section.0>{section.1}</a></p>
                    <h1>{title}</h1>
                    <p class="subtitle">{subtitle}</p>
                </div>
            </div>
            <div class="editor-layout">
                <section class="card editor-card">{form(fields)}</section>
                <aside class="card editor-check" id="manifest-check" aria-live="polite">
                    {move || checked.with(|c| match c {
                        Err(errors) => error_list(errors, text).into_any(),
                        Ok(parsed) => view! {
                            <h2 class="check-ok"><span class="check-mark" aria-hidden="true">"✓"</span>" Valid"</h2>
                            {valid(parsed)}
                        }.into_any(),
                    })}
                </aside>
            </div>
        }
        .into_any()
    }
}
