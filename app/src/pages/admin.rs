//! Administration: users, groups and their members, and role bindings. The server checks every
//! read and change; these pages only show what it answers.

use crate::api::admin::*;
use crate::api::notifications::{
    get_deliveries, get_group_notification_targets, RetryDelivery, SetNotificationUrl,
};
use crate::components::common::{
    ConfirmSubmit, EmptyState, ErrorPanel, FormError, Loading, PageHeader,
};
use crate::components::notify::{UrlTarget, UrlTargetResult, UrlTargets};
use crate::domain::rbac::{EntityType, Role};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use leptos_router::hooks::use_params_map;

/// A form that empties itself once its action succeeds, ready for the next entry.
fn reset_on_success<A, O>(action: ServerAction<A>) -> NodeRef<leptos::html::Form>
where
    A: leptos::server_fn::ServerFn<Output = O, Error = crate::error::AppError>
        + Clone
        + Send
        + Sync
        + 'static,
    O: Clone + Send + Sync + 'static,
{
    let form = NodeRef::<leptos::html::Form>::new();
    Effect::new(move |_| {
        if let Some(Ok(_)) = action.value().get() {
            if let Some(form) = form.get() {
                form.reset();
            }
        }
    });
    form
}

#[component]
fn AdminTabs() -> AnyView {
    view! {
        <nav class="tabs" aria-label="Administration">
            <A href="/admin" exact=true>"Users"</A>
            <A href="/admin/groups">"Groups"</A>
            <A href="/admin/access">"Role bindings"</A>
            <A href="/admin/notifications">"Notifications"</A>
        </nav>
    }
    .into_any()
}

#[component]
pub fn AdminUsersPage() -> AnyView {
    let users = Resource::new(|| (), |_| list_users());
    view! {
        <Title text="Users" />
        <PageHeader title="Administration" subtitle="Who can sign in, how, and what they belong to." />
        <AdminTabs />
        <Transition fallback=|| view! { <Loading /> }>
            {move || Suspend::new(async move {
                match users.await {
                    Ok(users) if users.is_empty() => view! { <EmptyState title="Nobody has signed in yet" /> }.into_any(),
                    Ok(users) => view! {
                        <div class="table-wrap">
                            <table class="table">
                                <thead>
                                    <tr>
                                        <th scope="col">"User"</th>
                                        <th scope="col">"Email"</th>
                                        <th scope="col">"Signs in with"</th>
                                        <th scope="col">"Groups"</th>
                                        <th scope="col">"Last sign-in"</th>
                                    </tr>
                                </thead>
                                <tbody>
                                    {users.into_iter().map(|u| view! {
                                        <tr>
                                            <td><strong>{u.name}</strong><br /><span class="muted">"@"{u.login}</span></td>
                                            <td>{u.email.unwrap_or_else(|| "—".into())}</td>
                                            <td>{u.providers.into_iter().map(|p| view! { <span class="badge">{p}</span> }).collect_view()}</td>
                                            <td>{u.groups.into_iter().map(|g| {
                                                let href = format!("/admin/groups/{g}");
                                                view! { <a class="badge link" href=href>{g}</a> }
                                            }).collect_view()}</td>
                                            <td class="nowrap">{u.last_sign_in_at.unwrap_or_else(|| "never".into())}</td>
                                        </tr>
                                    }).collect_view()}
                                </tbody>
                            </table>
                        </div>
                    }
                    .into_any(),
                    Err(error) => view! { <ErrorPanel error /> }.into_any(),
                }
            })}
        </Transition>
    }
    .into_any()
}

#[component]
pub fn AdminGroupsPage() -> AnyView {
    let create = ServerAction::<CreateGroup>::new();
    let create_form = reset_on_success(create);
    let groups = Resource::new(move || create.version().get(), |_| list_groups());
    view! {
        <Title text="Groups" />
        <PageHeader title="Administration" subtitle="Groups gather people; role bindings on a group apply to all of its members." />
        <AdminTabs />
        <section class="card">
            <h2>"New group"</h2>
            <ActionForm action=create node_ref=create_form attr:class="inline-form">
                <label>
                    <span>"Name"</span>
                    <input type="text" name="name" required pattern=crate::domain::names::SLUG_PATTERN maxlength="63" title="lowercase letters, digits and single hyphens, starting with a letter" placeholder="platform-team" />
                </label>
                <label class="grow">
                    <span>"Description"</span>
                    <input type="text" name="description" placeholder="What the group is for" />
                </label>
                <button type="submit" class="button primary">"Create group"</button>
            </ActionForm>
            <FormError result=create.value().into() />
        </section>
        <Transition fallback=|| view! { <Loading /> }>
            {move || Suspend::new(async move {
                match groups.await {
                    Ok(groups) if groups.is_empty() => view! { <EmptyState title="No groups yet" /> }.into_any(),
                    Ok(groups) => view! {
                        <div class="table-wrap">
                            <table class="table">
                                <thead>
                                    <tr>
                                        <th scope="col">"Group"</th>
                                        <th scope="col">"Description"</th>
                                        <th scope="col">"Members"</th>
                                    </tr>
                                </thead>
                                <tbody>
                                    {groups.into_iter().map(|g| {
                                        let href = format!("/admin/groups/{}", g.name);
                                        view! {
                                            <tr>
                                                <td><a href=href><strong>{g.name}</strong></a></td>
                                                <td>{g.description}</td>
                                                <td>{g.member_count}</td>
                                            </tr>
                                        }
                                    }).collect_view()}
                                </tbody>
                            </table>
                        </div>
                    }
                    .into_any(),
                    Err(error) => view! { <ErrorPanel error /> }.into_any(),
                }
            })}
        </Transition>
    }
    .into_any()
}

#[component]
pub fn AdminGroupPage() -> AnyView {
    let params = use_params_map();
    let name = move || params.read().get("name").unwrap_or_default();
    let add = ServerAction::<AddGroupMember>::new();
    let remove = ServerAction::<RemoveGroupMember>::new();
    let delete = ServerAction::<DeleteGroup>::new();
    let add_form = reset_on_success(add);
    let navigate = leptos_router::hooks::use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(())) = delete.value().get() {
            navigate("/admin/groups", Default::default());
        }
    });
    let detail = Resource::new(
        move || (name(), add.version().get(), remove.version().get()),
        |(name, _, _)| get_group_detail(name),
    );
    let set_url = ServerAction::<SetNotificationUrl>::new();
    let targets = Resource::new(
        move || (name(), set_url.version().get()),
        |(name, _)| get_group_notification_targets(name),
    );
    view! {
        <Title text="Group" />
        <PageHeader title="Administration" />
        <AdminTabs />
        <Transition fallback=|| view! { <Loading /> }>
            {move || Suspend::new(async move {
                match detail.await {
                    Ok(detail) => {
                        let group_name = detail.group.name.clone();
                        let add_to = group_name.clone();
                        let to_delete = group_name.clone();
                        let to_delete_name = group_name.clone();
                        view! {
                            <section class="card">
                                <h2>{detail.group.name.clone()}</h2>
                                <p class="muted">{detail.group.description.clone()}</p>
                                <h3>"Members"</h3>
                                {if detail.members.is_empty() {
                                    view! { <p class="muted">"No members yet."</p> }.into_any()
                                } else {
                                    view! {
                                        <ul class="member-list">
                                            {detail.members.into_iter().map(|m| {
                                                let group_name = group_name.clone();
                                                view! {
                                                    <li>
                                                        <span><strong>{m.name}</strong>" "<span class="muted">"@"{m.login.clone()}</span></span>
                                                        <ActionForm action=remove>
                                                            <input type="hidden" name="group" value=group_name />
                                                            <input type="hidden" name="user" value=m.login.clone() />
                                                            <button type="submit" class="button small ghost" aria-label=format!("Remove {}", m.login)>"Remove"</button>
                                                        </ActionForm>
                                                    </li>
                                                }
                                            }).collect_view()}
                                        </ul>
                                    }.into_any()
                                }}
                                <ActionForm action=add node_ref=add_form attr:class="inline-form">
                                    <input type="hidden" name="group" value=add_to />
                                    <label class="grow">
                                        <span>"Add a member"</span>
                                        <input type="text" name="user" required placeholder="login or email" />
                                    </label>
                                    <button type="submit" class="button primary">"Add"</button>
                                </ActionForm>
                                <FormError result=add.value().into() />
                                <FormError result=remove.value().into() />
                                <h3>"Roles of this group"</h3>
                                <BindingTable bindings=detail.bindings />
                                <div class="danger-zone">
                                    <ActionForm action=delete>
                                        <input type="hidden" name="name" value=to_delete />
                                        <ConfirmSubmit
                                            label="Delete this group"
                                            class="button danger"
                                            question=format!("Delete the group {}? Its members lose the roles it gives them, and the sign-offs it holds need another group.", to_delete_name)
                                        />
                                    </ActionForm>
                                    <FormError result=delete.value().into() />
                                </div>
                            </section>
                        }
                        .into_any()
                    }
                    Err(error) => view! { <ErrorPanel error /> }.into_any(),
                }
            })}
        </Transition>
        <GroupChannels group=Signal::derive(name) targets set_url />
    }
    .into_any()
}

/// A group's Slack and webhook: what waits for the group (its sign-offs, exceptions,
/// rollbacks, overrides) is posted there once, besides telling each member.
#[component]
fn GroupChannels(
    group: Signal<String>,
    targets: Resource<Result<Vec<crate::api::notifications::TargetView>, crate::error::AppError>>,
    set_url: ServerAction<SetNotificationUrl>,
) -> AnyView {
    view! {
        <section class="card" id="group-notifications">
            <h2>"Notifications for this group"</h2>
            <p class="muted">"What waits for this group — a stage it signs off, an exception or rollback it approves, a policy it may override — is posted once to its Slack channel and webhook, besides each member's own channels."</p>
            <Transition fallback=|| view! { <Loading /> }>
                {move || Suspend::new(async move {
                    match targets.await {
                        Ok(targets) => {
                            let rows = [("slack", "Slack"), ("webhook", "Webhook")]
                                .map(|(channel, label)| UrlTarget {
                                    channel: channel.to_string(),
                                    label: label.to_string(),
                                    host: targets.iter().find(|t| t.channel == channel).map(|t| format!("{} (set by {}, {})", t.host, t.set_by, t.updated_at)),
                                })
                                .to_vec();
                            let name = group.get_untracked();
                            view! { <UrlTargets targets=rows group=Some(name.clone()) whose=format!("{name}'s") set_url /> }.into_any()
                        }
                        Err(error) => view! { <ErrorPanel error /> }.into_any(),
                    }
                })}
            </Transition>
            <UrlTargetResult set_url />
        </section>
    }
    .into_any()
}

/// Every notification delivery, newest first: where it went, how it stands, why it failed,
/// and Retry for a failed one.
#[component]
pub fn AdminNotificationsPage() -> AnyView {
    let retry = ServerAction::<RetryDelivery>::new();
    let view_data = Resource::new(move || retry.version().get(), |_| get_deliveries());
    view! {
        <Title text="Notifications" />
        <PageHeader title="Administration" subtitle="Notifications go out once per person (or group) and thing, on the channels each chose; each delivery is a durable job, retried with backoff." />
        <AdminTabs />
        <FormError result=retry.value().into() />
        <Transition fallback=|| view! { <Loading /> }>
            {move || Suspend::new(async move {
                match view_data.await {
                    Ok(data) => view! {
                        <section class="card">
                            <h2>"Deliveries"</h2>
                            <p class="facts-line">
                                <span class="status status-done">{format!("{} sent", data.sent)}</span>" "
                                <span class="status status-queued">{format!("{} pending", data.pending)}</span>" "
                                <span class="status status-error">{format!("{} failed", data.failed)}</span>
                                {(!data.email_configured).then(|| view! { <span class="muted">" · E-mail is off on this server: SLIPWAY_SMTP_URL is not set."</span> })}
                            </p>
                            {if data.rows.is_empty() {
                                view! { <EmptyState title="Nothing sent yet"><p>"Deliveries appear here when something starts waiting for someone who chose e-mail, Slack or a webhook."</p></EmptyState> }.into_any()
                            } else {
                                view! {
                                    <table class="table deliveries">
                                        <thead><tr><th>"When"</th><th>"To"</th><th>"Channel"</th><th>"What"</th><th>"State"</th><th>"Attempts"</th><th></th></tr></thead>
                                        <tbody>
                                            {data.rows.into_iter().map(|d| {
                                                let failed = d.state == "failed";
                                                let class = match d.state.as_str() {
                                                    "sent" => "status status-done",
                                                    "failed" => "status status-error",
                                                    _ => "status status-queued",
                                                };
                                                view! {
                                                    <tr>
                                                        <td class="muted">{d.created_at.clone()}</td>
                                                        <td>{d.recipient.clone()}<span class="muted channel-note">{d.target.clone()}</span></td>
                                                        <td>{d.channel.clone()}</td>
                                                        <td>{d.title.clone()}</td>
                                                        <td>
                                                            <span class=class>{d.state.clone()}</span>
                                                            {d.sent_at.clone().map(|at| view! { <span class="muted channel-note">{at}</span> })}
                                                            {d.last_error.clone().filter(|_| d.sent_at.is_none()).map(|e| view! { <span class="channel-note error-text">{e}</span> })}
                                                        </td>
                                                        <td>{d.attempts}</td>
                                                        <td>{failed.then(|| view! {
                                                            <ActionForm action=retry>
                                                                <input type="hidden" name="id" value=d.id />
                                                                <button type="submit" class="button small">"Retry"</button>
                                                            </ActionForm>
                                                        })}</td>
                                                    </tr>
                                                }
                                            }).collect_view()}
                                        </tbody>
                                    </table>
                                }.into_any()
                            }}
                        </section>
                    }.into_any(),
                    Err(error) => view! { <ErrorPanel error /> }.into_any(),
                }
            })}
        </Transition>
    }
    .into_any()
}

#[component]
fn BindingTable(
    bindings: Vec<BindingRow>,
    #[prop(optional)] delete: Option<ServerAction<DeleteRoleBinding>>,
) -> AnyView {
    if bindings.is_empty() {
        return view! { <p class="muted">"No role bindings."</p> }.into_any();
    }
    view! {
        <div class="table-wrap">
            <table class="table">
                <thead>
                    <tr>
                        <th scope="col">"Who"</th>
                        <th scope="col">"Role"</th>
                        <th scope="col">"On"</th>
                        {delete.is_some().then(|| view! { <th scope="col"><span class="visually-hidden">"Actions"</span></th> })}
                    </tr>
                </thead>
                <tbody>
                    {bindings.into_iter().map(|b| view! {
                        <tr>
                            <td><span class="badge">{b.subject_kind.clone()}</span>" "{b.subject.clone()}</td>
                            <td><span class=format!("role role-{}", b.role)>{b.role.clone()}</span></td>
                            <td>{b.scope.clone()}</td>
                            {delete.map(|action| view! {
                                <td class="actions">
                                    <ActionForm action>
                                        <input type="hidden" name="id" value=b.id />
                                        <ConfirmSubmit
                                            label="Remove"
                                            class="button small ghost danger"
                                            aria_label=format!("Remove {} from {}", b.role, b.subject)
                                            question=format!("Remove the role {} from {} on {}? They lose what it allows at once.", b.role, b.subject, b.scope)
                                        />
                                    </ActionForm>
                                </td>
                            })}
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
    .into_any()
}

#[component]
pub fn AdminAccessPage() -> AnyView {
    let create = ServerAction::<CreateRoleBinding>::new();
    let delete = ServerAction::<DeleteRoleBinding>::new();
    let bindings = Resource::new(
        move || (create.version().get(), delete.version().get()),
        |_| list_role_bindings(),
    );
    view! {
        <Title text="Role bindings" />
        <PageHeader title="Administration" subtitle="A role binding gives a user or a group a role, everywhere, on one kind of thing, or on one thing." />
        <AdminTabs />
        <section class="card">
            <h2>"Grant a role"</h2>
            <ActionForm action=create attr:class="binding-form">
                <label>
                    <span>"Subject"</span>
                    <select name="binding[subject_kind]">
                        <option value="user">"User"</option>
                        <option value="group">"Group"</option>
                    </select>
                </label>
                <label class="grow">
                    <span>"Login, email or group name"</span>
                    <input type="text" name="binding[subject]" required />
                </label>
                <label>
                    <span>"Role"</span>
                    <select name="binding[role]">
                        {Role::ALL.into_iter().map(|r| view! { <option value=r.as_str()>{r.as_str()}</option> }).collect_view()}
                    </select>
                </label>
                <label>
                    <span>"Scope"</span>
                    <select name="binding[scope_kind]">
                        <option value="global">"Everything"</option>
                        <option value="entity_type">"One kind of thing"</option>
                        <option value="entity">"One thing"</option>
                    </select>
                </label>
                <label>
                    <span>"Kind"</span>
                    <select name="binding[entity_type]">
                        <option value="">"—"</option>
                        {EntityType::ALL.into_iter().map(|t| view! { <option value=t.as_str()>{t.as_str()}</option> }).collect_view()}
                    </select>
                </label>
                <label>
                    <span>"Id or name"</span>
                    <input type="text" name="binding[entity_id]" />
                </label>
                <button type="submit" class="button primary">"Grant"</button>
            </ActionForm>
            <FormError result=create.value().into() />
            <FormError result=delete.value().into() />
        </section>
        <Transition fallback=|| view! { <Loading /> }>
            {move || Suspend::new(async move {
                match bindings.await {
                    Ok(bindings) => view! { <BindingTable bindings delete /> }.into_any(),
                    Err(error) => view! { <ErrorPanel error /> }.into_any(),
                }
            })}
        </Transition>
    }
    .into_any()
}
