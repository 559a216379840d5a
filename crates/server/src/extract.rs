//! Extractors: JSON bodies whose failures are precise problem+json, the request id, and the two kinds
//! of caller (an administrator, or an authenticated agent).

use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRef, FromRequest, FromRequestParts, OptionalFromRequestParts, Request};
use axum::http::StatusCode;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;
use warden_core::{AuthMethod, Principal};
use warden_identity::Agent;
use warden_identity::token::{Claims, TokenKind};

use crate::error::ApiError;
use crate::state::AppState;

/// A JSON body. Malformed JSON, wrong types, unknown fields and bad UTF-8 are 400 with the serde
/// message (which names the field), a wrong content type 415, an oversized body 413.
#[derive(Debug)]
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T>
where
    AppState: FromRef<S>,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(value)) => Ok(ApiJson(value)),
            Err(rejection) => Err(json_rejection(
                rejection,
                AppState::from_ref(state).config.max_body_bytes,
            )),
        }
    }
}

fn json_rejection(rejection: JsonRejection, max_body_bytes: usize) -> ApiError {
    match rejection.status() {
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::PayloadTooLarge(max_body_bytes),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => {
            ApiError::UnsupportedMediaType("the body must be JSON with `Content-Type: application/json`".into())
        }
        _ => ApiError::BadRequest(rejection.body_text()),
    }
}

/// A query string. Values of the wrong type and unknown parameters are 400 problem+json naming the
/// parameter, like a bad JSON body.
#[derive(Debug)]
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(value)) => Ok(ApiQuery(value)),
            Err(rejection) => Err(ApiError::BadRequest(rejection.body_text())),
        }
    }
}

/// Path parameters; a segment that does not decode (bad percent-encoding, invalid UTF-8) is 400
/// problem+json.
#[derive(Debug)]
pub struct ApiPath<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for ApiPath<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match <axum::extract::Path<T> as FromRequestParts<S>>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(value)) => Ok(ApiPath(value)),
            Err(rejection) => Err(ApiError::BadRequest(rejection.body_text())),
        }
    }
}

/// The id of this request, also sent back as `x-request-id` and written into audit events.
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

impl<S: Send + Sync> FromRequestParts<S> for RequestId {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(parts
            .extensions
            .get::<RequestId>()
            .cloned()
            .unwrap_or_else(|| RequestId(String::new())))
    }
}

/// The DER of the client certificate the TLS layer verified, when there is one.
#[derive(Debug, Clone)]
pub struct PeerCertificate(pub std::sync::Arc<Vec<u8>>);

/// The bearer token of the request, if any.
pub fn bearer(parts: &Parts) -> Result<Option<&str>, ApiError> {
    let Some(value) = parts.headers.get(AUTHORIZATION) else {
        return Ok(None);
    };
    let value = value
        .to_str()
        .map_err(|_| ApiError::unauthorized("the Authorization header is not valid text"))?;
    let Some((scheme, token)) = value.split_once(' ') else {
        return Err(ApiError::unauthorized(
            "the Authorization header must be `Bearer <token>`",
        ));
    };
    if !scheme.eq_ignore_ascii_case("bearer") || token.trim().is_empty() {
        return Err(ApiError::unauthorized(
            "the Authorization header must be `Bearer <token>`",
        ));
    }
    Ok(Some(token.trim()))
}

/// An administrator: the request carried the admin token.
#[derive(Debug, Clone, Copy)]
pub struct Admin;

impl FromRequestParts<AppState> for Admin {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        match bearer(parts)? {
            Some(token) if state.is_admin_token(token) => Ok(Admin),
            Some(_) => Err(ApiError::Forbidden("this route needs the admin token".into())),
            None => Err(ApiError::unauthorized("missing bearer token")),
        }
    }
}

/// An authenticated, active agent: by access token, passport, or mTLS client certificate.
#[derive(Debug, Clone)]
pub struct Caller {
    pub principal: Principal,
    pub agent: Agent,
    /// The verified token, absent when the agent authenticated by certificate.
    pub claims: Option<Claims>,
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        if let Some(token) = bearer(parts)? {
            let admitted = crate::admit::verified_claims(parts, token);
            let kinds = [TokenKind::Access, TokenKind::Passport];
            return crate::authn::caller_from_token(state, token, admitted, &kinds).await;
        }
        if let Some(cert) = parts.extensions.get::<PeerCertificate>().cloned() {
            return crate::authn::caller_from_certificate(state, &cert.0).await;
        }
        Err(ApiError::unauthorized("missing bearer token"))
    }
}

/// An agent asking for a decision. Like [`Caller`], with a precise refusal for the admin token, which
/// belongs to no agent and so has nothing to decide about.
#[derive(Debug, Clone)]
pub struct DecisionCaller(pub Caller);

impl FromRequestParts<AppState> for DecisionCaller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        if let Some(token) = bearer(parts)?
            && state.is_admin_token(token)
        {
            return Err(ApiError::Forbidden(
                "decisions are asked by agents; the admin token is not an agent (use /v1/policies/simulate)".into(),
            ));
        }
        Caller::from_request_parts(parts, state).await.map(DecisionCaller)
    }
}

/// Either an administrator or an agent.
#[derive(Debug, Clone)]
pub enum AdminOrCaller {
    Admin,
    Agent(Box<Caller>),
}

impl FromRequestParts<AppState> for AdminOrCaller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        if let Some(token) = bearer(parts)?
            && state.is_admin_token(token)
        {
            return Ok(AdminOrCaller::Admin);
        }
        Caller::from_request_parts(parts, state)
            .await
            .map(|c| AdminOrCaller::Agent(Box::new(c)))
    }
}

impl OptionalFromRequestParts<AppState> for AdminOrCaller {
    type Rejection = ApiError;

    /// `None` only when the request carries no credentials at all; bad credentials are still refused.
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Option<Self>, Self::Rejection> {
        let presented =
            parts.headers.contains_key(AUTHORIZATION) || parts.extensions.get::<PeerCertificate>().is_some();
        if !presented {
            return Ok(None);
        }
        <AdminOrCaller as FromRequestParts<AppState>>::from_request_parts(parts, state)
            .await
            .map(Some)
    }
}

impl Caller {
    pub fn method(&self) -> AuthMethod {
        self.principal.auth_method
    }
}
