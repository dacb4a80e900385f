//! Typed client for the Alibaba Cloud Call Center OpenAPI. Not yet built: see the ccc-openapi issue.
