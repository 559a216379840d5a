//! The firewall's configuration as users write it (YAML in `warden.yaml`, `deny_unknown_fields`, every
//! field optional) and its resolved form. A missing field takes the built-in default; a misspelt one is
//! an error, so a typo cannot silently switch a detector off.
//!
//! ```yaml
//! max_bytes: 1048576           # larger texts are refused (ScanError::TooLarge)
//! directions:                  # off | report | enforce, per detector and direction
//!   input:  {injection: enforce, dlp: enforce, waf: enforce}
//!   output: {injection: enforce, dlp: enforce}
//!   egress: {dlp: enforce, ssrf: enforce, allowlist: enforce}
//! injection:
//!   block_threshold: 0.75      # an injection finding scoring at least this blocks
//!   rules: |                   # merged over the built-in rules (same format as rules/injection.yaml)
//!     version: 1
//!     rules: [{id: injection.roleplay, enabled: false}]
//! dlp:
//!   actions: {card_number: tokenize, email: mask, secret: block}
//!   secrets: true              # gitleaks rules on; `gitleaks:` replaces them with a TOML rule file
//! waf:
//!   disable: [waf.xss.dangerous_tag]
//! egress:
//!   allow: ["https://api.openai.com", "*.github.com:443"]
//! ```

use serde::Deserialize;

use crate::dlp::DlpPolicy;
use crate::egress::EgressConfig;
use crate::waf::WafConfig;

/// Texts longer than this many bytes are refused unless `max_bytes` says otherwise: 1 MiB.
pub const DEFAULT_MAX_BYTES: usize = 1 << 20;

/// Every built-in injection rule scores at least 0.75 and the built-in model reports from 0.9, so by
/// default every built-in injection finding blocks (the detection rates in BENCHMARKS.md count any finding).
pub const DEFAULT_BLOCK_THRESHOLD: f32 = 0.75;

/// The whole firewall configuration. `FirewallConfig::default()` is the built-in everything.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FirewallConfig {
    /// The largest text (and destination) a scan accepts, in bytes; default [`DEFAULT_MAX_BYTES`].
    pub max_bytes: Option<usize>,
    /// Which detectors run, and whether they decide, per direction.
    pub directions: DirectionsConfig,
    pub injection: InjectionConfig,
    pub dlp: DlpConfig,
    /// Changes to the built-in WAF rules (add, replace, disable, tune).
    pub waf: WafConfig,
    /// The egress allowlist; empty (the default) lets nothing leave.
    pub egress: EgressConfig,
}

/// What a detector does in one direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DetectorMode {
    /// Not run.
    Off,
    /// Run; its findings are reported (and reach the policy engine) but never change the verdict.
    Report,
    /// Run; its findings block or redact as configured.
    Enforce,
}

/// The modes of every detector in one direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Detectors {
    /// Prompt injection over the normalized text.
    pub injection: DetectorMode,
    /// PII and credentials, acted on per [`DlpPolicy`].
    pub dlp: DetectorMode,
    /// Every WAF rule, SSRF included.
    pub waf: DetectorMode,
    /// The WAF's SSRF rule alone (URLs to internal addresses in the text), for directions without `waf`.
    pub ssrf: DetectorMode,
    /// The egress allowlist on the request's destination (egress only).
    pub allowlist: DetectorMode,
}

/// One direction as written: unset fields take that direction's default.
#[derive(Debug, Clone, Copy, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DirectionConfig {
    pub injection: Option<DetectorMode>,
    pub dlp: Option<DetectorMode>,
    pub waf: Option<DetectorMode>,
    pub ssrf: Option<DetectorMode>,
    pub allowlist: Option<DetectorMode>,
}

#[derive(Debug, Clone, Copy, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DirectionsConfig {
    /// Prompts and tool arguments. Default: injection, DLP and WAF, all enforced.
    pub input: DirectionConfig,
    /// Tool results shown to an agent. Default: injection (indirect) and DLP, enforced.
    pub output: DirectionConfig,
    /// Outbound requests. Default: the allowlist on the destination, DLP and SSRF on the body, enforced.
    pub egress: DirectionConfig,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct InjectionConfig {
    /// An enforced injection finding scoring at least this blocks; default [`DEFAULT_BLOCK_THRESHOLD`].
    pub block_threshold: Option<f32>,
    /// A rule file merged over the built-in rules (see `InjectionDetector::with_overrides`); its
    /// `model:` section tunes the classifier's reporting threshold.
    pub rules: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DlpConfig {
    /// The action per entity; defaults redact all PII and block credentials.
    pub actions: DlpPolicy,
    /// Whether credentials are looked for at all (default true).
    pub secrets: bool,
    /// A gitleaks-format TOML rule file used instead of the built-in gitleaks rules.
    pub gitleaks: Option<String>,
}

impl Default for DlpConfig {
    fn default() -> Self {
        DlpConfig {
            actions: DlpPolicy::default(),
            secrets: true,
            gitleaks: None,
        }
    }
}

impl DirectionConfig {
    /// Fills unset fields from `defaults`.
    pub fn resolve(self, defaults: Detectors) -> Detectors {
        Detectors {
            injection: self.injection.unwrap_or(defaults.injection),
            dlp: self.dlp.unwrap_or(defaults.dlp),
            waf: self.waf.unwrap_or(defaults.waf),
            ssrf: self.ssrf.unwrap_or(defaults.ssrf),
            allowlist: self.allowlist.unwrap_or(defaults.allowlist),
        }
    }
}

impl Detectors {
    const NONE: Detectors = Detectors {
        injection: DetectorMode::Off,
        dlp: DetectorMode::Off,
        waf: DetectorMode::Off,
        ssrf: DetectorMode::Off,
        allowlist: DetectorMode::Off,
    };

    /// The built-in defaults for prompts and tool arguments.
    pub const INPUT: Detectors = Detectors {
        injection: DetectorMode::Enforce,
        dlp: DetectorMode::Enforce,
        waf: DetectorMode::Enforce,
        ..Detectors::NONE
    };

    /// The built-in defaults for tool results.
    pub const OUTPUT: Detectors = Detectors {
        injection: DetectorMode::Enforce,
        dlp: DetectorMode::Enforce,
        ..Detectors::NONE
    };

    /// The built-in defaults for outbound requests.
    pub const EGRESS: Detectors = Detectors {
        dlp: DetectorMode::Enforce,
        ssrf: DetectorMode::Enforce,
        allowlist: DetectorMode::Enforce,
        ..Detectors::NONE
    };
}

impl FirewallConfig {
    /// Parses the YAML form shown in the module documentation.
    pub fn from_yaml(text: &str) -> Result<Self, super::FirewallConfigError> {
        serde_saphyr::from_str(text).map_err(|e| super::FirewallConfigError::Syntax(e.to_string()))
    }
}
