//! The audit log: every change, who made it, before and after; filtered and paged. The filter
//! is a plain GET form, so it works before (and without) hydration.

use crate::api::audit::{
    list_audit_events, AuditEventRow, AuditFilter, AuditPage as EventsPage, VerifyAuditChain,
};
use crate::components::common::{EmptyState, ErrorPanel, FormError, Loading, PageHeader};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

#[component]
pub fn AuditPage() -> AnyView {
    let query = use_query_map();
    let filter = move || {
        let q = query.read();
        AuditFilter {
            actor: q.get("actor").unwrap_or_default(),
            entity: q.get("entity").unwrap_or_default(),
            action: q.get("action").unwrap_or_default(),
            from: q.get("from").unwrap_or_default(),
            to: q.get("to").unwrap_or_default(),
            text: q.get("text").unwrap_or_default(),
            page: q.get("page").and_then(|p| p.parse().ok()).unwrap_or(1),
        }
    };
    let events = Resource::new(filter, list_audit_events);
    let verify = ServerAction::<VerifyAuditChain>::new();
    view! {
        <Title text="Audit log" />
        <PageHeader
            title="Audit log"
            subtitle="Every change, in the order it happened. Each event is chained to the one before it by its hash."
        >
            <ActionForm action=verify>
                <button type="submit" class="button" disabled=move || verify.pending().get() title="Recompute every event's hash and its link to the one before">
                    {move || if verify.pending().get() { "Verifying…" } else { "Verify chain" }}
                </button>
            </ActionForm>
        </PageHeader>
        <div aria-live="polite">
            {move || verify.value().get().and_then(|r| r.ok()).map(|said| view! { <p class="form-ok" role="status">{said}</p> })}
            <FormError result=verify.value().into() />
        </div>
        <AuditFilters filter=Signal::derive(filter) />
        <Transition fallback=|| view! { <Loading /> }>
            {move || Suspend::new(async move {
                match events.await {
                    Ok(page) if page.events.is_empty() => view! {
                        <EmptyState title="No events match">
                            <p>"Try a broader filter."</p>
                        </EmptyState>
                    }
                    .into_any(),
                    Ok(page) => view! { <AuditTable page current=filter() /> }.into_any(),
                    Err(error) => view! { <ErrorPanel error /> }.into_any(),
                }
            })}
        </Transition>
    }
    .into_any()
}

/// The filters, as a plain GET form (it works before hydration), showing the current ones.
#[component]
fn AuditFilters(filter: Signal<AuditFilter>) -> AnyView {
    view! {
    <form method="get" action="/audit" class="filters" role="search">
        <label>
            <span>"Actor"</span>
            <input type="text" name="actor" placeholder="login" prop:value=move || filter.get().actor />
        </label>
        <label>
            <span>"Entity"</span>
            <input type="text" name="entity" placeholder="group or group:3" prop:value=move || filter.get().entity />
        </label>
        <label>
            <span>"Action"</span>
            <input type="text" name="action" placeholder="group.create or group." prop:value=move || filter.get().action />
        </label>
        <label>
            <span>"From"</span>
            <input type="date" name="from" prop:value=move || filter.get().from />
        </label>
        <label>
            <span>"To"</span>
            <input type="date" name="to" prop:value=move || filter.get().to />
        </label>
        <label>
            <span>"Search"</span>
            <input type="search" name="text" placeholder="words in the change" prop:value=move || filter.get().text />
        </label>
        <button type="submit" class="button">"Filter"</button>
        <a class="button ghost" href="/audit">"Clear"</a>
    </form>
    }
    .into_any()
}

/// One page of events, with links to the pages beside it under the same filters.
#[component]
fn AuditTable(page: EventsPage, current: AuditFilter) -> AnyView {
    let link = move |n: u64| {
        format!(
            "/audit?actor={}&entity={}&action={}&from={}&to={}&text={}&page={n}",
            encode(&current.actor),
            encode(&current.entity),
            encode(&current.action),
            encode(&current.from),
            encode(&current.to),
            encode(&current.text)
        )
    };
    view! {
        <p class="muted">{format!("{} events", page.total)}</p>
        <div class="table-wrap">
            <table class="table audit-table">
                <thead>
                    <tr>
                        <th scope="col">"#"</th>
                        <th scope="col">"When (UTC)"</th>
                        <th scope="col">"Actor"</th>
                        <th scope="col">"Action"</th>
                        <th scope="col">"Entity"</th>
                        <th scope="col">"Change"</th>
                    </tr>
                </thead>
                <tbody>
                    {page.events.into_iter().map(|event| view! { <AuditRow event /> }).collect_view()}
                </tbody>
            </table>
        </div>
        <nav class="pager" aria-label="Pages">
            {(page.page > 1).then(|| view! { <a class="button ghost" href=link(page.page - 1)>"← Newer"</a> })}
            <span>{format!("Page {} of {}", page.page, page.pages)}</span>
            {(page.page < page.pages).then(|| view! { <a class="button ghost" href=link(page.page + 1)>"Older →"</a> })}
        </nav>
    }
    .into_any()
}

#[component]
fn AuditRow(event: AuditEventRow) -> AnyView {
    let when = event
        .occurred_at
        .replace('T', " ")
        .chars()
        .take(19)
        .collect::<String>();
    let short_hash = event.hash.chars().take(10).collect::<String>();
    view! {
        <tr>
            <td class="mono" title=event.hash.clone()>{event.seq}<br /><span class="hash">{short_hash}</span></td>
            <td class="nowrap">{when}</td>
            <td>{event.actor}</td>
            <td class="action"><code>{event.action}</code></td>
            <td class="entity" title=format!("{} {}", event.entity_type, event.entity_id)>{format!("{} {}", event.entity_type, event.entity_name)}</td>
            <td class="change">
                {event.before.map(|b| view! { <div class="diff before"><span>"before"</span><code>{b}</code></div> })}
                {event.after.map(|a| view! { <div class="diff after"><span>"after"</span><code>{a}</code></div> })}
            </td>
        </tr>
    }
    .into_any()
}

/// Query-string encoding for the few characters a filter may hold.
fn encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
