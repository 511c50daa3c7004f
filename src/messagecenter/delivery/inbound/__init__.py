"""Reply by e-mail: mail to a relay address (delivery/relay.py) arrives through the
built-in SMTP listener (listener.py, `messagecenter inbound-smtp`) or a provider's inbound
webhook (webhooks.py, django-anymail) and goes through one action,
`actions.receive_email`: recognise repeats, automatic mail and loops; check the token, the
sender and SPF/DKIM/DMARC (authentication.py); take out the new text and the attachments
(parsing.py); post it with the conversation's own send action, or record why not
(docs/email.md#reply-by-e-mail)."""
