import { Client } from './client.js';
import { startTestServer, type TestServer } from './server.js';

/** An item as GET /api/albums/<path> lists it. */
export interface ApiItem {
  name: string;
  type: string;
  width: number;
  height: number;
  takenAt: string;
  durationSeconds?: number | null;
  urls: Record<string, string>;
}

/** The items of an album as this client sees them (none when it may not see the album). */
export async function albumItems(client: Client, albumPath: string): Promise<ApiItem[]> {
  const response = await client.get(`/api/albums/${albumPath.split('/').map(encodeURIComponent).join('/')}`);
  if (response.status !== 200) return [];
  return ((await response.json()) as { items: ApiItem[] }).items;
}

/** keepsake over `mediaRoot` with a key that allows originals and one that does not, each logged in. */
export async function familyAndViewer(mediaRoot: string, passwords: { family: string; viewer: string }): Promise<{ server: TestServer; family: Client; viewer: Client }> {
  const server = await startTestServer({
    mediaRoot,
    keys: [
      { label: 'relatives', password: passwords.family },
      { label: 'viewer', password: passwords.viewer, canDownloadOriginals: false },
    ],
  });
  const family = new Client(server.url);
  const viewer = new Client(server.url);
  await family.login(passwords.family);
  await viewer.login(passwords.viewer);
  return { server, family, viewer };
}
