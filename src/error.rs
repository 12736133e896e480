//! The one error type of the tool. Every failure a command can meet is a variant here; the
//! output layer turns it into the original impt's message texts (see `output::errors`).

use serde_json::Value;

/// The impCentral entity kinds, with the labels impt prints.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Entity {
    Product,
    DeviceGroup,
    Device,
    Deployment,
    LoginKey,
    Account,
    Webhook,
}

impl Entity {
    /// The label impt shows: `Device Group`, `Login Key`, …
    pub fn label(self) -> &'static str {
        match self {
            Entity::Account => "Account",
            Entity::Product => "Product",
            Entity::DeviceGroup => "Device Group",
            Entity::Device => "Device",
            Entity::Deployment => "Deployment",
            Entity::LoginKey => "Login Key",
            Entity::Webhook => "Webhook",
        }
    }

    /// The API collection path, e.g. `/devicegroups`.
    pub fn collection(self) -> &'static str {
        match self {
            Entity::Account => "/accounts",
            Entity::Product => "/products",
            Entity::DeviceGroup => "/devicegroups",
            Entity::Device => "/devices",
            Entity::Deployment => "/deployments",
            Entity::LoginKey => "/accounts/me/login_keys",
            Entity::Webhook => "/webhooks",
        }
    }
}

/// Which configuration file an error is about.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ConfigKind {
    GlobalAuth,
    LocalAuth,
    /// `IMPT_AUTH_FILE_PATH`'s file.
    Auth,
    Project,
    Test,
}

impl ConfigKind {
    /// `Global Auth File`, `Project File`, `Test Configuration File`, …
    pub fn file_label(&self) -> &'static str {
        match self {
            ConfigKind::GlobalAuth => "Global Auth File",
            ConfigKind::LocalAuth => "Local Auth File",
            ConfigKind::Auth => "Auth File",
            ConfigKind::Project => "Project File",
            ConfigKind::Test => "Test Configuration File",
        }
    }
}

/// One item of an impCentral error document.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ApiErrorItem {
    pub status: String,
    pub code: String,
    pub title: String,
    pub detail: String,
    pub meta: Value,
}

/// A non-2xx answer of impCentral.
#[derive(Clone, Debug, PartialEq)]
pub struct ApiError {
    pub status: u16,
    pub errors: Vec<ApiErrorItem>,
    /// The body when it was not an error document (gateway pages, empty bodies).
    pub raw: String,
    /// Lines printed after the errors: compile errors mapped back to the user's files.
    pub notes: Vec<String>,
}

impl ApiError {
    /// True when the answer is a 400 whose items are all per-entity 404s
    /// (the form of a batch assign/unassign of unknown devices).
    pub fn all_items_not_found(&self) -> bool {
        self.status == 400
            && !self.errors.is_empty()
            && self.errors.iter().all(|e| e.status == "404")
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ImptError {
    #[error("{} \"{ident}\" is not found.", .entity.label())]
    NotFound { entity: Entity, ident: String },
    #[error("No {} Identifier is specified.", .0.label())]
    NoIdentifier(Entity),
    #[error("Multiple {}s{} are found:", .entity.label(), .ident.as_ref().map(|i| format!(" \"{i}\"")).unwrap_or_default())]
    Multiple {
        entity: Entity,
        ident: Option<String>,
        matches: Vec<Value>,
    },
    #[error("{} \"{id}\", saved in {}, does not exist anymore.", .entity.label(), .config.file_label())]
    Outdated {
        entity: Entity,
        id: String,
        config: ConfigKind,
    },
    #[error("{} is not found in the current directory.", .0.file_label())]
    ConfigNotFound(ConfigKind),
    #[error("{} is not found.", .0.file_label())]
    AuthFileNotFound(ConfigKind),
    #[error("{} is corrupted.", .0.file_label())]
    Corrupted(ConfigKind),
    #[error("You are not logged in.")]
    NotLoggedIn,
    #[error("Impossible to refresh access token for the {}.", .0.file_label())]
    RefreshFailed(ConfigKind),
    #[error("Access token is expired for the {}. Information required to refresh access token is not saved.", .0.file_label())]
    TokenExpired(ConfigKind),
    #[error("File error: {file}: {msg}.")]
    File { file: String, msg: String },
    /// An impCentral error answer; rendered item by item.
    #[error("impCentral API error HTTP/{}", .0.status)]
    Api(ApiError),
    #[error("Access to impCentral failed or timed out. Please check your network connection.")]
    Network(String),
    #[error("Internal error: {0}.")]
    Internal(String),
    /// The user answered 'n' to a confirmation.
    #[error("Operation is canceled.")]
    Canceled,
    /// A command-line error found by the parser: printed after the command's help.
    #[error("{msg}")]
    Usage { help: String, msg: String },
    /// Any other failure, printed as `Error: <text>` verbatim.
    #[error("{0}")]
    Message(String),
}

impl ImptError {
    pub fn msg(text: impl Into<String>) -> Self {
        ImptError::Message(text.into())
    }
}

impl From<std::io::Error> for ImptError {
    fn from(e: std::io::Error) -> Self {
        ImptError::Message(e.to_string())
    }
}

pub type Result<T, E = ImptError> = std::result::Result<T, E>;
