// The browser side of email obfuscation: an inline script, added once to each page that had an
// address hidden, that puts every address back — a hidden text address becomes a text node again,
// a protected link gets its mailto: href back — and removes itself, so that a visitor with
// JavaScript gets the page the origin sent. It runs where it stands (the end of <body>) and once
// more when the document is parsed, for addresses after it. It only ever restores mailto: links:
// a crafted link in user content cannot make it write another scheme.
//
// The same decoding answers the protection path, where a protected link leads a browser without
// JavaScript (or one that followed it before the script ran): that page explains, and with
// JavaScript goes on to the mail client.

/** Where protected links point, with the encoded href as fragment: frontline answers it. */
export const PROTECTION_PATH = '/.frontline/email-protection';
/** The attribute that carries a hidden text address. */
export const ADDRESS_ATTRIBUTE = 'data-fl-email';
/** What a visitor without JavaScript sees instead of a text address. */
export const HIDDEN_TEXT = '[email hidden]';

/** Decodes the hex form (decodeAddress in addresses.ts) in a browser. */
const DECODE = 'function d(h){var k=parseInt(h.substr(0,2),16),b=new Uint8Array((h.length>>1)-1),i;for(i=2;i<h.length;i+=2)b[(i>>1)-1]=parseInt(h.substr(i,2),16)^k;return new TextDecoder().decode(b)}';
const MAILTO = 'function m(u){return/^[\\t\\n\\f\\r ]*mailto:/i.test(u)}';

const LINKS = `a[href^="${PROTECTION_PATH}#"],area[href^="${PROTECTION_PATH}#"]`;

export const DECODER_SCRIPT =
  '<script data-frontline="email-decode">(function(){' +
  DECODE +
  MAILTO +
  'function r(){var s=document.querySelectorAll("span[' + ADDRESS_ATTRIBUTE + ']"),i,e,h,u;' +
  'for(i=0;i<s.length;i++){e=s[i];e.parentNode.replaceChild(document.createTextNode(d(e.getAttribute("' + ADDRESS_ATTRIBUTE + '"))),e)}' +
  "s=document.querySelectorAll('" + LINKS + "');" +
  'for(i=0;i<s.length;i++){h=s[i].getAttribute("href");u=d(h.slice(h.indexOf("#")+1));if(m(u))s[i].setAttribute("href",u)}}' +
  'r();document.addEventListener("DOMContentLoaded",r);var c=document.currentScript;if(c&&c.parentNode)c.parentNode.removeChild(c)' +
  '})()</script>';

/** The page at PROTECTION_PATH. */
export const PROTECTION_PAGE = `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="robots" content="noindex">
<title>Email address protected</title></head>
<body><h1>Email address protected</h1>
<p>This email address is hidden from automated address collectors. Turn on JavaScript in your browser and go back to the page to see it.</p>
<script>(function(){${DECODE}${MAILTO}var h=location.hash.slice(1);if(/^[0-9a-f]{4,}$/.test(h)){var u=d(h);if(m(u))location.replace(u)}})()</script>
</body></html>
`;
