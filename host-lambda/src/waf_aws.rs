//! AWS implementations of the WAF sink's two traits ([`crate::waf`]): the WAFv2 IP set
//! (`GetIPSet`, `UpdateIPSet` with its lock token) and the block times in one item of the
//! rollup table (`GetItem`, `UpdateItem`).

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_wafv2::types::Scope;

use crate::aws::classify;
use crate::names::table;
use crate::ports::SinkError;
use crate::waf::{BlockStore, Blocks, IpSet, Listing, UpdateError};
use aws_sdk_wafv2::types::IpAddressVersion;

/// One WAFv2 IP set, by ARN.
#[derive(Debug, Clone)]
pub struct WafIpSet {
    /// Client (us-east-1 for a CloudFront set).
    pub client: aws_sdk_wafv2::Client,
    /// The set's name.
    pub name: String,
    /// The set's ID.
    pub id: String,
    /// `CLOUDFRONT` (ARN `…:global/ipset/…`) or `REGIONAL`.
    pub scope: Scope,
}

impl WafIpSet {
    /// `arn:aws:wafv2:<region>:<account>:<global|regional>/ipset/<name>/<id>`.
    pub fn from_arn(client: aws_sdk_wafv2::Client, arn: &str) -> Result<WafIpSet, String> {
        let resource = arn.splitn(6, ':').nth(5).filter(|_| arn.starts_with("arn:") && arn.contains(":wafv2:"));
        let parts: Vec<&str> = resource.map(|r| r.split('/').collect()).unwrap_or_default();
        let (scope, name, id) = match parts.as_slice() {
            ["global", "ipset", name, id] => (Scope::Cloudfront, name, id),
            ["regional", "ipset", name, id] => (Scope::Regional, name, id),
            _ => return Err(format!("{arn:?} is not a WAFv2 IP set ARN (arn:aws:wafv2:REGION:ACCOUNT:global/ipset/NAME/ID)")),
        };
        Ok(WafIpSet { client, name: name.to_string(), id: id.to_string(), scope })
    }
}

impl IpSet for WafIpSet {
    async fn get(&self) -> Result<Listing, SinkError> {
        let out = self.client.get_ip_set().name(&self.name).id(&self.id).scope(self.scope.clone()).send().await.map_err(classify)?;
        let set = out.ip_set().ok_or_else(|| SinkError::permanent("GetIPSet returned no IP set"))?;
        let lock_token = out.lock_token().ok_or_else(|| SinkError::permanent("GetIPSet returned no lock token"))?.to_string();
        Ok(Listing { addresses: set.addresses().to_vec(), lock_token, ipv6: *set.ip_address_version() == IpAddressVersion::Ipv6 })
    }

    async fn update(&self, addresses: Vec<String>, lock_token: String) -> Result<(), UpdateError> {
        let result = self
            .client
            .update_ip_set()
            .name(&self.name)
            .id(&self.id)
            .scope(self.scope.clone())
            .set_addresses(Some(addresses))
            .lock_token(lock_token)
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_waf_optimistic_lock_exception()) => Err(UpdateError::Lock),
            Err(e) => Err(UpdateError::Other(classify(e))),
        }
    }
}

/// Block times in the rollup table: item `waf#<IP set ARN>` / `blocks`, attribute `blocks`
/// (a map entry → epoch ms), expiring a day after its last block ends.
#[derive(Debug, Clone)]
pub struct DynamoBlocks {
    /// Client.
    pub client: aws_sdk_dynamodb::Client,
    /// The rollup table.
    pub table: String,
    /// The IP set's ARN (the item's key).
    pub ip_set_arn: String,
}

/// The item's attribute holding the map.
const BLOCKS: &str = "blocks";

impl DynamoBlocks {
    fn key(&self) -> HashMap<String, AttributeValue> {
        HashMap::from([
            (table::PK.to_string(), AttributeValue::S(format!("waf#{}", self.ip_set_arn))),
            (table::SK.to_string(), AttributeValue::S(BLOCKS.to_string())),
        ])
    }
}

impl BlockStore for DynamoBlocks {
    async fn load(&self) -> Result<Blocks, SinkError> {
        let out = self.client.get_item().table_name(&self.table).set_key(Some(self.key())).consistent_read(true).send().await.map_err(classify)?;
        let Some(AttributeValue::M(map)) = out.item().and_then(|i| i.get(BLOCKS)) else {
            return Ok(Blocks::new());
        };
        Ok(map.iter().filter_map(|(k, v)| Some((k.clone(), v.as_n().ok()?.parse::<i64>().ok()?))).collect())
    }

    async fn save(&self, blocks: &Blocks, expires_ms: i64) -> Result<(), SinkError> {
        let map = blocks.iter().map(|(k, v)| (k.clone(), AttributeValue::N(v.to_string()))).collect();
        self.client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(self.key()))
            .update_expression("SET #b = :b, #e = :e")
            .expression_attribute_names("#b", BLOCKS)
            .expression_attribute_names("#e", table::EXPIRES_AT)
            .expression_attribute_values(":b", AttributeValue::M(map))
            .expression_attribute_values(":e", AttributeValue::N((expires_ms / 1000).to_string()))
            .send()
            .await
            .map_err(classify)?;
        Ok(())
    }
}
