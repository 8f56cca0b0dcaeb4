"""The bot's runtime and domain services (app, config, control, access, approvals, audit,
notifications), with the dialer client, numbers and the demo console as subpackages. No
Block Kit and no Slack listeners here: those are handlers/."""
