import type { AssetCatalogue } from './assets.js';
import type { Display } from './display.js';
import { html } from './html.js';
import { layout } from './layout.js';

export interface DevicePageOptions {
  readonly display: Display;
  /** What this device is called now, if anything. */
  readonly name: string | null;
  /** A problem with what was typed, said beside the field. */
  readonly error?: string | undefined;
  readonly saved?: boolean | undefined;
}

/**
 * "Remember this device as …": the visitor names the device they are on, so the family's admin
 * sees it by that name in `keepsake device list` and can end it on its own.
 */
export function devicePage(assets: AssetCatalogue, options: DevicePageOptions): string {
  const { t } = options.display;
  const status = options.saved === true ? html`<p class="login-lead" role="status">${t.t('device.saved', { name: options.name ?? '' })}</p>` : '';
  const error = options.error === undefined ? '' : html`<p class="message" id="device-error" role="alert">${options.error}</p>`;
  const body = html`<section class="login" aria-labelledby="device-title">
<h1 id="device-title">${t.t('device.title')}</h1>
<p class="login-lead">${t.t('device.lead')}</p>
${status}
<form method="post" action="/device">
<label for="device-name">${t.t('device.field')}</label>
<input id="device-name" name="name" type="text" maxlength="64" autocomplete="off" value="${options.name ?? ''}"${options.error === undefined ? '' : html` aria-invalid="true" aria-describedby="device-error"`}>
${error}
<button type="submit">${t.t('device.save')}</button>
</form>
<p><a href="/">${t.t('device.back')}</a></p>
</section>`;
  return layout(assets, { title: t.t('device.title'), body, display: options.display, loggedIn: true, bodyClass: 'login-page' });
}
