//! Which host serves CCC for a region (`signing.md` section 1; the endpoint map of the
//! tea SDKs of both versions).

/// Regions the official SDKs send to the central host `ccc.aliyuncs.com`.
const CENTRAL: [&str; 22] = [
    "ap-northeast-1",
    "ap-south-1",
    "ap-southeast-1",
    "ap-southeast-2",
    "ap-southeast-3",
    "ap-southeast-5",
    "cn-beijing",
    "cn-chengdu",
    "cn-hongkong",
    "cn-huhehaote",
    "cn-qingdao",
    "cn-shenzhen",
    "cn-zhangjiakou",
    "eu-central-1",
    "eu-west-1",
    "me-east-1",
    "us-east-1",
    "us-west-1",
    "cn-hangzhou-finance",
    "cn-shenzhen-finance-1",
    "cn-shanghai-finance-1",
    "cn-north-2-gov-1",
];

/// The CCC host for `region`: `ccc.<region>.aliyuncs.com` (CCC's home regions
/// `cn-shanghai` and `cn-hangzhou`, and any region the map does not name), or
/// `ccc.aliyuncs.com` for the 22 regions the official SDKs map there.
///
/// ```
/// assert_eq!(ccc_openapi::endpoint::host("cn-shanghai"), "ccc.cn-shanghai.aliyuncs.com");
/// assert_eq!(ccc_openapi::endpoint::host("ap-southeast-1"), "ccc.aliyuncs.com");
/// ```
pub fn host(region: &str) -> String {
    if CENTRAL.contains(&region) {
        "ccc.aliyuncs.com".to_owned()
    } else {
        format!("ccc.{region}.aliyuncs.com")
    }
}

/// The HTTPS base URL for `region`.
pub fn base_url(region: &str) -> String {
    format!("https://{}/", host(region))
}

/// CCC's home region, the one the guide and Alibaba's demos use.
pub const DEFAULT_REGION: &str = "cn-shanghai";
