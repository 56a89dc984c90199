//! What a freeze holding a stage, a build or a plan looks like where it waits: "Frozen until …
//! because …", the exception asked for it (who approved, how many more), and the forms to ask
//! for one or approve it. The page follows its entity, so what changes here reaches it live.

use crate::api::freezes::{ApproveFreezeException, FrozenNote, RequestFreezeException};
use crate::components::common::FormError;
use leptos::prelude::*;

#[component]
pub fn FrozenPanel(note: FrozenNote) -> AnyView {
    let ask = ServerAction::<RequestFreezeException>::new();
    let approve = ServerAction::<ApproveFreezeException>::new();
    let subject = note.subject.clone();
    let exception = note.exception.clone();
    view! {
        <div class="frozen-note" role="status">
            <p><span class="frozen-icon" aria-hidden="true">"❄"</span>" "<strong>{note.message.clone()}</strong></p>
            <p class="muted">"It proceeds by itself when the freeze ends or is lifted."</p>
            {match exception {
                None => view! {
                    <details class="freeze-exception">
                        <summary>"Ask for an exception…"</summary>
                        <ActionForm action=ask attr:class="stacked-form">
                            <input type="hidden" name="subject" value=subject.clone() />
                            <label><span>"Why it must go through the freeze"</span>
                                <textarea name="reason" rows="2" required maxlength="2000"></textarea>
                            </label>
                            <button type="submit" class="button" disabled=move || ask.pending().get()>"Ask for an exception"</button>
                        </ActionForm>
                        <FormError result=ask.value().into() />
                    </details>
                }.into_any(),
                Some(e) => {
                    let count = format!("{} of {} from {}", e.approved_by.len(), e.approvals, e.group);
                    view! {
                        <p class="exception-state">
                            {format!("Exception asked by {}: “{}” — ", e.requested_by, e.reason)}
                            <strong>{count}</strong>
                            {(!e.approved_by.is_empty()).then(|| format!(" ({})", e.approved_by.join(", ")))}
                        </p>
                        {e.can_approve.then(|| view! {
                            <ActionForm action=approve attr:class="stacked-form inline-fields">
                                <input type="hidden" name="id" value=e.id />
                                <label><span>"Comment"</span><input type="text" name="comment" maxlength="2000" /></label>
                                <button type="submit" class="button primary" disabled=move || approve.pending().get()>"Approve exception"</button>
                            </ActionForm>
                        })}
                        <FormError result=approve.value().into() />
                    }.into_any()
                }
            }}
        </div>
    }
    .into_any()
}
