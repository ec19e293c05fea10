// The demo app's entry: starts the dashboard (demo/dashboard.ts), and shows an error instead of the loading text
// when anything in its start-up fails, even a module that throws as it is imported.
import './styles.css';
import { ensureValidLanguage } from './ui/locale';
import { startUp } from './ui/startUp';

const host = document.querySelector('#app') ?? document.body;
void startUp(host, async (control) => {
  // Before uPlot is imported: it formats numbers with navigator.language from its first line.
  ensureValidLanguage();
  const { startDashboard } = await import('./dashboard');
  await startDashboard(host, control);
});
