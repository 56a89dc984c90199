//! Where the server may connect: every outbound request (forge APIs, sign-in providers, the
//! registry, git sources) goes only to public addresses, unless an admin lists a host or range
//! in `SLIPWAY_ALLOWED_HOSTS`. The check is made on the addresses a name resolves to, at the
//! moment of connecting (the HTTP client's resolver drops refused addresses, so a name that
//! resolves differently on a second lookup gains nothing), and on addresses written into URLs.
//! No client follows redirects, so an answer cannot send a request elsewhere.

use ipnet::IpNet;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, LazyLock};

/// Ranges no request goes to unless listed: loopback, private, carrier-grade NAT (where cloud
/// metadata such as 100.100.100.200 lives), link-local (169.254.169.254, fe80::/10), unique
/// local (fd00:ec2::254), multicast, reserved and "this network".
static REFUSED: LazyLock<Vec<IpNet>> = LazyLock::new(|| {
    [
        "0.0.0.0/8",
        "10.0.0.0/8",
        "100.64.0.0/10",
        "127.0.0.0/8",
        "169.254.0.0/16",
        "172.16.0.0/12",
        "192.0.0.0/24",
        "192.168.0.0/16",
        "198.18.0.0/15",
        "224.0.0.0/4",
        "240.0.0.0/4",
        "::/128",
        "::1/128",
        "fc00::/7",
        "fe80::/10",
        "ff00::/8",
    ]
    .iter()
    .map(|net| net.parse().expect("the refused ranges are valid"))
    .collect()
});

/// The policy: which hosts and ranges an admin opened beyond the public internet.
#[derive(Clone, Debug, Default)]
pub struct Egress {
    hosts: Vec<String>,
    nets: Vec<IpNet>,
}

impl Egress {
    /// Parses `SLIPWAY_ALLOWED_HOSTS`: host names, addresses and CIDR ranges separated by
    /// commas or spaces (`git.internal, 10.20.0.0/16, 127.0.0.1`). Every bad entry is named.
    pub fn parse(list: &str) -> Result<Egress, String> {
        let mut egress = Egress::default();
        let mut bad = Vec::new();
        for entry in list
            .split([',', ' ', '\n', '\t'])
            .map(str::trim)
            .filter(|e| !e.is_empty())
        {
            if let Ok(net) = entry.parse::<IpNet>() {
                egress.nets.push(net);
            } else if let Ok(ip) = entry.parse::<IpAddr>() {
                egress.nets.push(IpNet::from(ip));
            } else if is_host_name(entry) {
                egress
                    .hosts
                    .push(entry.trim_end_matches('.').to_ascii_lowercase());
            } else {
                bad.push(format!("{entry:?}"));
            }
        }
        if bad.is_empty() {
            Ok(egress)
        } else {
            Err(format!(
                "{} {} not a host name, an IP address or a CIDR range",
                bad.join(", "),
                if bad.len() == 1 { "is" } else { "are" }
            ))
        }
    }

    /// Whether a connection to `ip`, reached through the name `host`, may be made.
    pub fn permits(&self, host: &str, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        self.hosts.contains(&host)
            || self.nets.iter().any(|net| net.contains(&ip))
            || !REFUSED.iter().any(|net| net.contains(&ip))
    }

    /// Whether an admin listed `host` (a name, or an address in a listed range).
    pub fn listed(&self, host: &str) -> bool {
        let host = host
            .trim_matches(['[', ']'])
            .trim_end_matches('.')
            .to_ascii_lowercase();
        self.hosts.contains(&host)
            || host
                .parse::<IpAddr>()
                .is_ok_and(|ip| self.nets.iter().any(|net| net.contains(&canonical(ip))))
    }

    fn refusal(&self, host: &str, ip: IpAddr) -> String {
        format!(
            "{host} is at {ip}, a loopback, private or link-local address: the server connects there only if an admin lists the host in SLIPWAY_ALLOWED_HOSTS"
        )
    }

    /// Checks an address written in a URL (`http://10.0.0.5/`), which no resolver sees.
    pub fn check_url(&self, url: &url::Url) -> Result<(), String> {
        let ip = match url.host() {
            Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip),
            Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip),
            Some(url::Host::Domain(_)) => return Ok(()),
            None => return Err(format!("{url} names no host")),
        };
        if self.permits(&ip.to_string(), ip) {
            Ok(())
        } else {
            Err(self.refusal(&ip.to_string(), ip))
        }
    }

    /// Resolves `host` and returns its permitted addresses, or why there are none.
    pub async fn resolve(&self, host: &str, port: u16) -> Result<Vec<SocketAddr>, String> {
        let (bare, found) = lookup(host, port).await?;
        let (allowed, refused): (Vec<SocketAddr>, Vec<SocketAddr>) = found
            .into_iter()
            .partition(|addr| self.permits(bare, addr.ip()));
        match (allowed.is_empty(), refused.first()) {
            (false, _) => Ok(allowed),
            (true, Some(addr)) => Err(self.refusal(bare, addr.ip())),
            (true, None) => Err(format!("{bare} resolves to no address")),
        }
    }

    /// Like `resolve`, but every address must be permitted: for clients that resolve again
    /// themselves (libgit2), so that no address of the name is refused when they do.
    pub async fn check_all(&self, host: &str, port: u16) -> Result<(), String> {
        let (bare, found) = lookup(host, port).await?;
        match found.iter().find(|addr| !self.permits(bare, addr.ip())) {
            Some(addr) => Err(self.refusal(bare, addr.ip())),
            None if found.is_empty() => Err(format!("{bare} resolves to no address")),
            None => Ok(()),
        }
    }
}

/// The host without IPv6 brackets, and the addresses it names (itself, when it is one).
async fn lookup(host: &str, port: u16) -> Result<(&str, Vec<SocketAddr>), String> {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    let found = match bare.parse::<IpAddr>() {
        Ok(ip) => vec![SocketAddr::new(ip, port)],
        Err(_) => tokio::net::lookup_host((bare, port))
            .await
            .map_err(|e| format!("cannot resolve {bare}: {e}"))?
            .collect(),
    };
    Ok((bare, found))
}

/// The host and port a git remote URL connects to: `https://host[:port]/…`, `ssh://[user@]host[:port]/…`,
/// `git://host/…`, or scp-like `user@host:path`.
fn remote_host(url: &str) -> Option<(String, u16)> {
    if let Some(parsed) = url::Url::parse(url).ok().filter(|u| u.has_host()) {
        let port = parsed.port_or_known_default().or(match parsed.scheme() {
            "ssh" => Some(22),
            "git" => Some(9418),
            _ => None,
        })?;
        let host = match parsed.host()? {
            url::Host::Domain(name) => name.to_string(),
            url::Host::Ipv4(ip) => ip.to_string(),
            url::Host::Ipv6(ip) => ip.to_string(),
        };
        return Some((host, port));
    }
    // scp-like: [user@]host:path, with no scheme and no slash before the colon.
    let (before, _) = url.split_once(':')?;
    if before.contains('/') {
        return None;
    }
    let host = before.rsplit_once('@').map_or(before, |(_, host)| host);
    (!host.is_empty()).then(|| (host.to_string(), 22))
}

impl Egress {
    /// For libgit2, which resolves the name itself: every address the remote's host has must
    /// be one we allow.
    pub async fn check_git_remote(&self, url: &str) -> Result<(), String> {
        let (host, port) = remote_host(url)
            .ok_or("the URL names no host (https://host/path.git or git@host:path.git)")?;
        self.check_all(&host, port).await
    }
}

/// IPv4 written inside IPv6 (`::ffff:127.0.0.1`, NAT64 `64:ff9b::a9fe:a9fe`, 6to4
/// `2002:7f00:1::`) is judged as the IPv4 address it reaches.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return IpAddr::V4(v4);
            }
            let s = v6.segments();
            if s[0] == 0x64 && s[1] == 0xff9b && s[2..6] == [0, 0, 0, 0] {
                return IpAddr::V4(std::net::Ipv4Addr::from(
                    (u32::from(s[6]) << 16) | u32::from(s[7]),
                ));
            }
            if s[0] == 0x2002 {
                return IpAddr::V4(std::net::Ipv4Addr::from(
                    (u32::from(s[1]) << 16) | u32::from(s[2]),
                ));
            }
            ip
        }
        v4 => v4,
    }
}

fn is_host_name(entry: &str) -> bool {
    let name = entry.trim_end_matches('.');
    !name.is_empty()
        && name.len() <= 253
        && name.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
                && !label.starts_with('-')
                && !label.ends_with('-')
        })
}

/// A refusal by the policy, as the resolver reports it inside the HTTP client's error.
#[derive(Debug)]
struct Refusal(String);

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Refusal {}

/// The HTTP client's resolver: the system's answer, with refused addresses taken out.
struct Resolver(Arc<Egress>);

impl Resolve for Resolver {
    fn resolve(&self, name: Name) -> Resolving {
        let egress = self.0.clone();
        Box::pin(async move {
            let addrs = egress.resolve(name.as_str(), 0).await.map_err(
                |why| -> Box<dyn std::error::Error + Send + Sync> { Box::new(Refusal(why)) },
            )?;
            Ok(Box::new(addrs.into_iter()) as Addrs)
        })
    }
}

/// The HTTP client every adapter uses: the egress policy on every connection, no redirects
/// followed (a token endpoint that redirects is refused, not chased), bounded time.
#[derive(Clone)]
pub struct Http {
    client: reqwest::Client,
    egress: Arc<Egress>,
}

/// Why a request got no answer: refused by the policy, or failed on the way.
#[derive(Debug)]
pub enum Unanswered {
    Refused(String),
    Failed(reqwest::Error),
}

impl std::fmt::Display for Unanswered {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Unanswered::Refused(why) => f.write_str(why),
            Unanswered::Failed(error) => {
                // reqwest's own text says only "error sending request": the causes say why.
                write!(f, "{error}")?;
                let mut source = std::error::Error::source(error);
                while let Some(cause) = source {
                    write!(f, ": {cause}")?;
                    source = cause.source();
                }
                Ok(())
            }
        }
    }
}

impl std::error::Error for Unanswered {}

impl Http {
    pub fn new(egress: Arc<Egress>) -> Http {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(std::time::Duration::from_secs(20))
            .user_agent(concat!("Slipway/", env!("CARGO_PKG_VERSION")))
            .dns_resolver(Arc::new(Resolver(egress.clone())))
            .build()
            .expect("the TLS backend is compiled in");
        Http { client, egress }
    }

    pub fn egress(&self) -> &Egress {
        &self.egress
    }

    pub fn get(&self, url: impl reqwest::IntoUrl) -> reqwest::RequestBuilder {
        self.client.get(url)
    }

    pub fn post(&self, url: impl reqwest::IntoUrl) -> reqwest::RequestBuilder {
        self.client.post(url)
    }

    pub fn request(
        &self,
        method: reqwest::Method,
        url: impl reqwest::IntoUrl,
    ) -> reqwest::RequestBuilder {
        self.client.request(method, url)
    }

    /// Sends a request built from this client, after checking an address written in its URL
    /// (names are checked by the resolver when connecting).
    #[allow(clippy::disallowed_methods)]
    pub async fn send(
        &self,
        request: reqwest::RequestBuilder,
    ) -> Result<reqwest::Response, Unanswered> {
        let (client, request) = request.build_split();
        let request = request.map_err(Unanswered::Failed)?;
        self.egress
            .check_url(request.url())
            .map_err(Unanswered::Refused)?;
        client.execute(request).await.map_err(|error| {
            // A name the resolver refused is a refusal, not a network failure worth retrying.
            let mut source = std::error::Error::source(&error);
            while let Some(cause) = source {
                if let Some(refusal) = cause.downcast_ref::<Refusal>() {
                    return Unanswered::Refused(refusal.0.clone());
                }
                source = cause.source();
            }
            Unanswered::Failed(error)
        })
    }
}

/// oauth2's token exchange goes through the same checks as every other request.
impl<'c> oauth2::AsyncHttpClient<'c> for Http {
    type Error = oauth2::HttpClientError<Unanswered>;
    type Future = std::pin::Pin<
        Box<
            dyn std::future::Future<Output = Result<oauth2::HttpResponse, Self::Error>> + Send + 'c,
        >,
    >;

    fn call(&'c self, request: oauth2::HttpRequest) -> Self::Future {
        Box::pin(async move {
            let (parts, body) = request.into_parts();
            let url = parts.uri.to_string();
            let mut builder = self.client.request(parts.method, url).body(body);
            for (name, value) in &parts.headers {
                builder = builder.header(name, value);
            }
            let response = self
                .send(builder)
                .await
                .map_err(|e| oauth2::HttpClientError::Other(e.to_string()))?;
            let status = response.status();
            let headers = response.headers().clone();
            let body = response
                .bytes()
                .await
                .map_err(|e| oauth2::HttpClientError::Other(e.to_string()))?;
            let mut answer = oauth2::http::Response::builder().status(status);
            for (name, value) in &headers {
                answer = answer.header(name, value);
            }
            answer
                .body(body.to_vec())
                .map_err(|e| oauth2::HttpClientError::Other(e.to_string()))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_loopback_link_local_and_metadata_addresses_are_refused() {
        let open = Egress::default();
        for refused in [
            "127.0.0.1",
            "127.5.6.7",
            "10.1.2.3",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "169.254.169.254",
            "100.100.100.200",
            "0.0.0.0",
            "::1",
            "::",
            "fe80::1",
            "fd00:ec2::254",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "64:ff9b::a9fe:a9fe",
            "2002:7f00:1::",
            "224.0.0.1",
        ] {
            let ip: IpAddr = refused.parse().unwrap();
            assert!(!open.permits("host", ip), "{refused} must be refused");
        }
        for public in [
            "140.82.112.3",
            "13.107.42.14",
            "2606:50c0:8000::153",
            "172.32.0.1",
        ] {
            let ip: IpAddr = public.parse().unwrap();
            assert!(open.permits("host", ip), "{public} is public");
        }
    }

    #[test]
    fn an_admin_opens_hosts_addresses_and_ranges() {
        let egress = Egress::parse("git.internal., 10.20.0.0/16 127.0.0.1").unwrap();
        assert!(egress.permits("GIT.internal", "10.9.9.9".parse().unwrap()));
        assert!(egress.permits("other", "10.20.3.4".parse().unwrap()));
        assert!(egress.permits("other", "127.0.0.1".parse().unwrap()));
        assert!(!egress.permits("other", "127.0.0.2".parse().unwrap()));
        assert!(!egress.permits("other", "10.21.0.1".parse().unwrap()));
        let error = Egress::parse("ok.example, bad host!, 10.0.0.0/99").unwrap_err();
        assert!(
            error.contains("\"bad\"") || error.contains("\"host!\""),
            "{error}"
        );
        assert!(error.contains("10.0.0.0/99"), "{error}");
    }

    #[test]
    fn addresses_in_urls_are_checked() {
        let open = Egress::default();
        for url in [
            "http://169.254.169.254/latest/meta-data/",
            "http://[::1]:8080/",
            "https://10.0.0.5/api",
        ] {
            let error = open.check_url(&url.parse().unwrap()).unwrap_err();
            assert!(error.contains("SLIPWAY_ALLOWED_HOSTS"), "{error}");
        }
        open.check_url(&"https://api.github.com/user".parse().unwrap())
            .unwrap();
    }

    #[tokio::test]
    async fn names_are_judged_by_what_they_resolve_to() {
        let open = Egress::default();
        let error = open.resolve("localhost", 80).await.unwrap_err();
        assert!(error.contains("localhost is at"), "{error}");
        assert!(open.check_all("localhost", 80).await.is_err());
        let listed = Egress::parse("localhost").unwrap();
        assert!(!listed.resolve("localhost", 80).await.unwrap().is_empty());
        listed.check_all("localhost", 80).await.unwrap();
    }
}
