//! `aileron mcp`: a Model Context Protocol server over stdio (rmcp), so that an agent's model
//! can use the credentials its agent token may use, without ever holding one. Three tools:
//! `list_credentials`, `request` and `check_scope` (docs/mcp.md documents their descriptions and
//! input schemas: they are the interface). Every refusal comes back as a tool error whose text
//! tells the model what to do next. Standard output carries the protocol only.

use std::collections::BTreeMap;
use std::sync::Arc;

use aileron_sdk::wire::{self, BrokeredRequest, BrokeredResponse, ErrorCode};
use aileron_sdk::{Error, HostClient, Usable};
use clap::Args;
use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::{CallToolResult, ContentBlock, Implementation, ServerCapabilities, ServerConfig};
use rmcp::{ServerHandler, ServiceExt as _, schemars, tool, tool_handler, tool_router};
use secrecy::SecretString;
use serde::Deserialize;

use crate::Failure;

/// `aileron mcp`.
#[derive(Args)]
pub(crate) struct McpArgs {
    /// The Aileron server's base URL (default: the server `aileron login` saved).
    #[arg(long, env = "AILERON_SERVER")]
    server: Option<String>,
    /// The most bytes of an answer's body shown to the model; longer bodies are cut, with a
    /// note saying so.
    #[arg(long, env = "AILERON_MCP_MAX_BODY", default_value_t = 32 * 1024)]
    max_body: usize,
}

/// Serves MCP on stdin/stdout until the client closes the connection.
pub(crate) async fn run(args: McpArgs) -> Result<(), Failure> {
    let token = std::env::var("AILERON_TOKEN").map_err(|_| {
        Failure::Usage(
            "AILERON_TOKEN is not set: create an agent token (aileron agent-token create --name NAME \
             --credential NAME) and give it to the MCP client's environment"
                .into(),
        )
    })?;
    let server = match args.server {
        Some(server) => server,
        None => crate::session::Context::load(None).await?.server,
    };
    let roots = crate::escrow_cmd::extra_roots()?;
    let host = HostClient::with_roots(&server, SecretString::from(token), roots.as_deref())
        .map_err(|e| Failure::Usage(e.to_string()))?;
    let service = Aileron::new(host, args.max_body)
        .serve(rmcp::transport::stdio())
        .await
        .map_err(|e| Failure::Refused(format!("mcp: the client did not start a session: {e}")))?;
    service
        .waiting()
        .await
        .map_err(|e| Failure::Refused(format!("mcp: {e}")))?;
    Ok(())
}

/// The server: one agent token's view of one Aileron server.
#[derive(Clone)]
pub(crate) struct Aileron {
    host: Arc<HostClient>,
    max_body: usize,
    tool_router: ToolRouter<Self>,
}

/// `request`'s input.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RequestInput {
    /// The credential's name, as `list_credentials` shows it.
    credential: String,
    /// The HTTP method, e.g. `GET` or `POST`.
    method: String,
    /// The absolute URL to call. It must be inside the credential's rules.
    url: String,
    /// Extra request headers, name to value (e.g. `{"Accept": "application/json"}`). Do not
    /// send the credential's own header: Aileron adds it.
    #[serde(default)]
    headers: BTreeMap<String, String>,
    /// The request body as text (e.g. a JSON document), if any.
    body: Option<String>,
}

/// `check_scope`'s input.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CheckInput {
    /// The credential's name, as `list_credentials` shows it.
    credential: String,
    /// The HTTP method, e.g. `GET`.
    method: String,
    /// The absolute URL.
    url: String,
}

#[tool_router]
impl Aileron {
    fn new(host: HostClient, max_body: usize) -> Aileron {
        Aileron {
            host: Arc::new(host),
            max_body,
            tool_router: Self::tool_router(),
        }
    }

    #[tool(
        description = "List the credentials this agent may make HTTP requests with, and for each the requests it allows (methods and URL prefixes) and whether it is usable now. Call this first: `request` only works inside these rules. The secrets themselves are never shown to you."
    )]
    async fn list_credentials(&self) -> CallToolResult {
        match self.host.usable().await {
            Ok(list) if list.is_empty() => text(
                "No credential is available to this agent token. Its owner can add one (aileron credential add) or give the token more (aileron agent-token create --credential NAME).",
            ),
            Ok(list) => text(&list.iter().map(describe).collect::<Vec<_>>().join("\n\n")),
            Err(e) => refusal(&e, None),
        }
    }

    #[tool(
        description = "Make an HTTP request with a credential: Aileron adds the secret inside an attested enclave and removes it from the answer. Returns the status, the headers and the body (as text when it is text, cut to a stated limit). The request must be inside the credential's rules (see list_credentials); one outside is refused before it is sent."
    )]
    async fn request(&self, Parameters(input): Parameters<RequestInput>) -> CallToolResult {
        let usable = match self.find(&input.credential).await {
            Ok(usable) => usable,
            Err(result) => return result,
        };
        let request = BrokeredRequest {
            method: input.method.to_ascii_uppercase(),
            url: input.url,
            headers: input.headers.into_iter().collect(),
            body: input.body.map(|b| wire::b64u(b.as_bytes())),
        };
        let answer = if usable.source == "escrow" {
            self.host.request_escrow(&usable.name, &request).await
        } else {
            self.host.request_credential(&usable.name, &request).await
        };
        match answer {
            Ok(response) => text(&show(&response, self.max_body)),
            Err(e) => refusal(&e, Some(rules_in_words(&usable))),
        }
    }

    #[tool(
        description = "Check whether a request (method and URL) is inside a credential's rules, without making it. Answers with the exact URL that would be called, or why it is refused."
    )]
    async fn check_scope(&self, Parameters(input): Parameters<CheckInput>) -> CallToolResult {
        let usable = match self.find(&input.credential).await {
            Ok(usable) => usable,
            Err(result) => return result,
        };
        if usable.source == "escrow" {
            return text(
                "This is a sealed escrow: its owner sealed its rules and the server keeps no copy, so they cannot be checked here. Make the request: one outside its rules is refused before it is sent, and costs no use.",
            );
        }
        let method = input.method.to_ascii_uppercase();
        match self
            .host
            .check_scope(&usable.name, &method, &input.url)
            .await
        {
            Ok(v) if v.allowed => text(&format!(
                "Allowed: {method} {} is inside the rules of {}.",
                v.url.unwrap_or(input.url),
                usable.name
            )),
            Ok(v) => error_text(&format!(
                "Not allowed: {}. {}",
                v.reason.unwrap_or_default(),
                rules_in_words(&usable)
            )),
            Err(e) => refusal(&e, None),
        }
    }
}

#[tool_handler(router = self.tool_router)]
impl ServerHandler for Aileron {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(Implementation::new("aileron", env!("CARGO_PKG_VERSION")))
            .with_instructions(
                "Aileron lets you make HTTP requests with credentials (API keys, OAuth tokens) that you never see: call list_credentials to learn which exist and what each allows, then request. Requests outside a credential's rules are refused.",
            )
    }
}

impl Aileron {
    /// The credential or sealed escrow `name` this token may use (one call to the server); a
    /// tool error naming the ones that exist otherwise.
    async fn find(&self, name: &str) -> Result<Usable, CallToolResult> {
        let list = self.host.usable().await.map_err(|e| refusal(&e, None))?;
        let names: Vec<&str> = list.iter().map(|u| u.name.as_str()).collect();
        let message = format!(
            "No credential named {name:?} is available to this agent token. Available: {}. Call list_credentials.",
            if names.is_empty() {
                "none".into()
            } else {
                names.join(", ")
            }
        );
        list.into_iter()
            .find(|u| u.name == name)
            .ok_or_else(|| error_text(&message))
    }
}

/// The rules of `u`, for a refusal.
fn rules_in_words(u: &Usable) -> String {
    format!("The rules of {}: {}", u.name, rules(u))
}

fn text(message: &str) -> CallToolResult {
    CallToolResult::success(vec![ContentBlock::text(message.to_owned())])
}

fn error_text(message: &str) -> CallToolResult {
    CallToolResult::error(vec![ContentBlock::text(message.to_owned())])
}

/// One credential, in words a model can act on.
fn describe(u: &Usable) -> String {
    let state = match u.status.as_str() {
        "active" | "server" => "usable now".to_owned(),
        "not_escrowed" | "lost" | "unavailable" => {
            "NOT usable now: its owner must unlock the vault (aileron vault unlock)".to_owned()
        }
        "expired" => "NOT usable now: its escrow expired; its owner must unlock again".to_owned(),
        other => format!("state {other}"),
    };
    let uses = u
        .max_uses
        .map(|n| format!("; at most {n} uses per unlock"))
        .unwrap_or_default();
    format!(
        "{} ({}{}): {state}{uses}.\n  Allows: {}",
        u.name,
        if u.source == "escrow" {
            "sealed escrow"
        } else {
            "credential"
        },
        u.kind
            .as_deref()
            .map(|k| format!(", {k}"))
            .unwrap_or_default(),
        rules(u)
    )
}

fn rules(u: &Usable) -> String {
    match &u.allow {
        None => "rules sealed by the owner (not shown); requests outside them are refused".into(),
        Some(allow) => allow
            .iter()
            .map(|r| format!("{} under {}", r.methods.join(", "), r.url_prefix))
            .collect::<Vec<_>>()
            .join("; "),
    }
}

/// The answer: status, headers, and the body as text within `max_body` bytes.
fn show(response: &BrokeredResponse, max_body: usize) -> String {
    let mut out = format!("HTTP {}\n", response.status);
    for (name, value) in &response.headers {
        out.push_str(&format!("{name}: {value}\n"));
    }
    out.push('\n');
    let Some(body) = wire::from_b64u(&response.body) else {
        return out + "[the body could not be decoded]";
    };
    match std::str::from_utf8(&body) {
        Ok(text) if text.len() <= max_body => out + text,
        Ok(text) => {
            let mut end = max_body;
            while !text.is_char_boundary(end) {
                end -= 1;
            }
            format!(
                "{out}{}\n[cut: the first {end} of {} bytes are shown (AILERON_MCP_MAX_BODY); ask for a smaller resource, e.g. with paging or filters]",
                &text[..end],
                text.len()
            )
        }
        Err(_) => {
            let kind = response
                .headers
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case("content-type"))
                .map(|(_, v)| v.as_str())
                .unwrap_or("unknown type");
            format!(
                "{out}[a binary body of {} bytes ({kind}) is not shown]",
                body.len()
            )
        }
    }
}

/// A refusal as a tool error that says what to do next.
fn refusal(e: &Error, rules: Option<String>) -> CallToolResult {
    let advice = match e {
        Error::Api { code, message, .. } => match code {
            ErrorCode::ScopeViolation | ErrorCode::DestinationNotAllowed => format!(
                "Refused: the request is outside the credential's rules ({message}). {} Change the method or URL to fit them; retrying the same request will not work.",
                rules.unwrap_or_default()
            ),
            ErrorCode::VaultLocked | ErrorCode::EscrowLost => format!(
                "Refused: the credential is not unlocked ({message}). Its owner must unlock the vault (aileron vault unlock); retrying before then will not work."
            ),
            ErrorCode::EscrowUsedUp | ErrorCode::EscrowExpired => format!(
                "Refused: the credential is used up or expired ({message}). Its owner must unlock the vault again or escrow it again."
            ),
            ErrorCode::NotFound | ErrorCode::EscrowNotFound => format!(
                "Refused: no such credential for this agent token ({message}). Call list_credentials."
            ),
            ErrorCode::InvalidToken | ErrorCode::Unauthenticated | ErrorCode::AccountSuspended => {
                format!(
                    "Refused: the agent token is not valid ({message}): it expired or was revoked. Its owner must create a new one."
                )
            }
            ErrorCode::RateLimited => {
                format!("Refused: too many requests ({message}). Wait a minute and retry.")
            }
            ErrorCode::UpstreamError
            | ErrorCode::UpstreamTooLarge
            | ErrorCode::UpstreamEncoding => {
                format!(
                    "The upstream service failed ({message}). The request may be retried later."
                )
            }
            other => format!("Refused ({}): {message}", other.as_str()),
        },
        other => format!("Aileron could not be reached: {other}. Retry later."),
    };
    error_text(&advice)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(body: &[u8], content_type: &str) -> BrokeredResponse {
        BrokeredResponse {
            status: 200,
            headers: vec![("content-type".into(), content_type.into())],
            body: wire::b64u(body),
        }
    }

    #[test]
    fn a_long_text_body_is_cut_on_a_character_boundary_and_says_so() {
        // 'é' is two bytes: a cut at 5 bytes would split the third one.
        let shown = show(&answer("ééééé".as_bytes(), "text/plain"), 5);
        assert!(
            shown.starts_with("HTTP 200\ncontent-type: text/plain\n\néé\n"),
            "{shown}"
        );
        assert!(
            shown.contains("the first 4 of 10 bytes are shown"),
            "{shown}"
        );
        let whole = show(&answer(b"{\"ok\":true}", "application/json"), 100);
        assert!(whole.ends_with("\n\n{\"ok\":true}"), "{whole}");
    }

    #[test]
    fn a_binary_body_is_described_not_shown() {
        let shown = show(&answer(&[0xff, 0xfe, 0x00, 0x01], "image/png"), 100);
        assert!(
            shown.ends_with("[a binary body of 4 bytes (image/png) is not shown]"),
            "{shown}"
        );
    }

    #[test]
    fn a_credential_is_described_with_its_rules_and_whether_it_works_now() {
        let usable = Usable {
            name: "github".into(),
            source: "credential".into(),
            kind: Some("bearer".into()),
            allow: Some(vec![wire::AllowRule {
                methods: vec!["GET".into(), "POST".into()],
                url_prefix: "https://api.github.com/repos/".into(),
            }]),
            max_uses: Some(10),
            expires_at: None,
            status: "not_escrowed".into(),
        };
        assert_eq!(
            describe(&usable),
            "github (credential, bearer): NOT usable now: its owner must unlock the vault \
             (aileron vault unlock); at most 10 uses per unlock.\n  Allows: GET, POST under \
             https://api.github.com/repos/"
        );
    }

    #[test]
    fn each_refusal_tells_the_model_what_to_do() {
        let api = |code| Error::Api {
            status: 0,
            code,
            message: "m".into(),
        };
        let said = |e: Error, rules: Option<String>| {
            let result = refusal(&e, rules);
            assert_eq!(result.is_error, Some(true));
            serde_json::to_string(&result.content).unwrap()
        };
        let scope = said(
            api(ErrorCode::ScopeViolation),
            Some("The rules of gh: GET under https://x/".into()),
        );
        assert!(
            scope.contains("outside the credential's rules")
                && scope.contains("GET under https://x/")
        );
        assert!(said(api(ErrorCode::VaultLocked), None).contains("must unlock the vault"));
        assert!(said(api(ErrorCode::EscrowUsedUp), None).contains("used up or expired"));
        assert!(said(api(ErrorCode::NotFound), None).contains("Call list_credentials"));
        assert!(said(api(ErrorCode::InvalidToken), None).contains("expired or was revoked"));
    }
}
