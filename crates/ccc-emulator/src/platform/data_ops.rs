//! Data actions that change records: SMS and the satisfaction survey by SMS.

use std::time::Instant;

use ccc_core::model::Text;

use super::records::{Appraisal, SmsKind, SmsMessage};
use super::{Platform, PlatformError};

/// The `Scenario` of the satisfaction-survey SMS template (`GetSmsConfig`).
pub const SMS_SCENARIO_SATISFACTION: i64 = 1;

fn phone_numbers(list: &str) -> Result<Vec<Text>, PlatformError> {
    let numbers: Vec<Text> = list
        .split([',', ';'])
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map(Text::from)
        .collect();
    if numbers.is_empty() {
        return Err(PlatformError::blank("PhoneNumbers"));
    }
    if let Some(bad) = numbers
        .iter()
        .find(|n| !n.bytes().all(|b| b.is_ascii_digit()))
    {
        return Err(PlatformError::invalid(
            "PhoneNumbers",
            format_args!("`{bad}` is not a phone number"),
        ));
    }
    Ok(numbers)
}

/// `${name}` parameters of `text` filled from a JSON object of strings.
fn fill(text: &str, params: Option<&str>) -> Result<String, PlatformError> {
    let Some(params) = params.filter(|p| !p.trim().is_empty()) else {
        return Ok(text.to_owned());
    };
    let map: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(params).map_err(|e| {
            PlatformError::invalid("TemplateParam", format_args!("not a JSON object: {e}"))
        })?;
    let mut out = text.to_owned();
    for (name, value) in map {
        let value = match value {
            serde_json::Value::String(s) => s,
            other => other.to_string(),
        };
        out = out.replace(&format!("${{{name}}}"), &value);
    }
    Ok(out)
}

impl Platform {
    fn next_biz_id(&mut self, now: Instant) -> Text {
        self.sms_seq += 1;
        format!("{}^{}", self.unix_ms(now), self.sms_seq).into()
    }

    /// `SendPredefinedShortMessage`: the template `config_id` to each number; the
    /// message lands in the outbox. Answers the `BizId`.
    pub fn send_sms(
        &mut self,
        now: Instant,
        config_id: i64,
        numbers: &str,
        params: Option<&str>,
    ) -> Result<Text, PlatformError> {
        let template = self
            .scenario
            .sms_templates
            .iter()
            .find(|t| t.id == config_id)
            .ok_or_else(|| PlatformError::not_found("SMS template", &config_id.to_string()))?;
        let text = fill(&template.text, params)?;
        let phone_numbers = phone_numbers(numbers)?;
        let biz_id = self.next_biz_id(now);
        let sent_ms = self.unix_ms(now);
        self.records.add_sms(SmsMessage {
            biz_id: biz_id.clone(),
            kind: SmsKind::Predefined,
            phone_numbers,
            template_id: Some(config_id),
            text: text.into(),
            contact_id: None,
            sent_ms,
        });
        Ok(biz_id)
    }

    /// `LaunchShortMessageAppraise`: the satisfaction SMS for call `acid` to each
    /// number; each simulated customer answers with its script's rating.
    pub fn sms_appraise(
        &mut self,
        now: Instant,
        acid: &str,
        numbers: &str,
    ) -> Result<(), PlatformError> {
        if acid.trim().is_empty() {
            return Err(PlatformError::blank("Acid"));
        }
        if self.records.call(acid).is_none() && !self.calls.contains_key(acid) {
            return Err(PlatformError::no_job(acid));
        }
        let phone_numbers = phone_numbers(numbers)?;
        let template = self
            .scenario
            .sms_templates
            .iter()
            .find(|t| t.scenario == SMS_SCENARIO_SATISFACTION);
        let text: Text = template.map_or("", |t| t.text.as_str()).into();
        let template_id = template.map(|t| t.id);
        let biz_id = self.next_biz_id(now);
        let at_ms = self.unix_ms(now);
        for number in &phone_numbers {
            let rating = self.scenario.customer_script(number).survey_rating;
            self.records.add_appraisal(Appraisal {
                contact_id: acid.into(),
                rating,
                channel: "SMS",
                at_ms,
            });
        }
        self.records.add_sms(SmsMessage {
            biz_id,
            kind: SmsKind::Appraisal,
            phone_numbers,
            template_id,
            text,
            contact_id: Some(acid.into()),
            sent_ms: at_ms,
        });
        Ok(())
    }
}
