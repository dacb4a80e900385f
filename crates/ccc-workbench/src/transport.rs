//! The OpenAPI client the way the browser SDK reached CCC: through the integrator's
//! backend in the `ajax*` conventions of the config (C3, C13-C20).

use ccc_core::config::{AjaxMethod, AjaxType, Config};
use ccc_openapi::Client;
use ccc_openapi::shape::Shape;
use ccc_openapi::sign::HttpMethod;
use ccc_openapi::transport::{self, Proxy};

use crate::error::Error;

/// A client that sends every request to the integrator's backend as `config` says:
/// `ajaxOrigin` + `ajaxPath` (C14, C15), the action in the query (`ajaxApiParamName`,
/// C17) or the path (C13), POST or GET (C18), `ajaxOtherParams` (C19), `ajaxHeaders`
/// (C20), cookies kept (C16), and the request shape of `useOpenApiSdk` (C3). `region`
/// goes into the 2020-07-01 requests, as the browser SDK put it.
///
/// ```
/// use ccc_core::config::Config;
/// let config = Config::builder("ccc-test", false)
///     .ajax_origin("https://crm.example.com")
///     .ajax_path("/aliyun/ccc/api")
///     .build()
///     .unwrap();
/// let client = ccc_workbench::proxy_client(&config, "cn-shanghai").unwrap();
/// # let _ = client;
/// ```
pub fn proxy_client(config: &Config, region: &str) -> Result<Client, Error> {
    let ajax = config.ajax();
    let origin = ajax.origin.clone().ok_or_else(|| {
        Error::unavailable(
            "new WorkbenchSdk",
            "ajaxOrigin (C14) is needed to reach the backend from a program (a browser uses its own origin)",
        )
    })?;
    let mut builder = Proxy::builder(origin)
        .path(ajax.path.clone())
        .ajax_type(match ajax.ajax_type {
            AjaxType::Path => transport::AjaxType::Path {
                module: "ccc".to_owned(),
            },
            _ => transport::AjaxType::Param {
                api_param_name: ajax.api_param_name.clone(),
            },
        })
        .method(match ajax.method {
            AjaxMethod::Get => HttpMethod::Get,
            _ => HttpMethod::Post,
        })
        .with_credentials(ajax.with_credentials)
        .shape(if config.use_open_api_sdk() {
            Shape::OpenApi
        } else {
            Shape::Demo
        })
        .region(region);
    for (name, value) in &ajax.other_params {
        builder = builder.other_param(name.clone(), value.clone());
    }
    for (name, value) in &ajax.headers {
        builder = builder.header(name.clone(), value.clone());
    }
    let proxy = builder.build().map_err(|e| {
        Error::unavailable("new WorkbenchSdk", format!("the backend's transport: {e}"))
    })?;
    Ok(Client::new(proxy))
}
