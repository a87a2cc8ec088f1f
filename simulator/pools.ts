/**
 * Word pools for the data generator. Deliberately full of what breaks naive CSV and encoding
 * code: non-ASCII letters, CJK, apostrophes, commas, double quotes and newlines.
 */

export const FIRST_NAMES = [
  'Zoë', 'José', 'Ana', 'Björn', 'Chloé', 'Dmitri', 'Émilie', 'François', 'Günter', 'Hélène',
  'Ingrid', 'Jürgen', 'Kenji', 'Łukasz', 'María', 'Nuño', 'Olga', 'Pål', 'Renée', 'Søren',
  'Tomás', 'Ursula', 'Valéria', 'Wojciech', 'Xavier', 'Yasmin', 'Zoltán', 'Aarav', 'Priya',
  'Mohammed', 'Fatima', 'Liam', 'Olivia', 'Noah', 'Emma', 'Siobhán', 'Seán', 'Grace', 'David',
  'Sarah', 'Michael', 'Laura', 'James', 'Mei', 'Wei', 'Sipho', 'Amara', 'Ngozi', 'Lars', 'Anaïs',
];

export const LAST_NAMES = [
  'Ångström', 'Núñez', 'Müller', "O'Brien", 'García', 'Smith', 'Johnson', 'Nguyễn', 'Kowalski',
  'Dubois', 'Rossi', 'Silva', 'Novák', 'Søndergaard', 'Öztürk', 'Papadopoulos', 'Kim',
  'Yamamoto', 'Ivanov', 'van der Berg', "D'Angelo", 'Fernández', 'Schröder', 'Brown', 'Taylor',
  'Williams', 'Martin', 'Lefèvre', 'Håkansson', 'Okafor', 'Dlamini', 'Patel', 'Sharma',
  'Hernández', 'López', 'Jones', 'Wilson', 'Anderson', 'Thomas', 'Moore',
];

/** CJK names: family name first, as the Name field shows them. */
export const CJK_NAMES: [string, string][] = [
  ['北京', '太郎'], ['山田', '花子'], ['佐藤', '健'], ['王', '伟'], ['李', '娜'], ['김', '민준'],
];

export const TITLES = [
  'Sales Representative', 'Account Executive', 'VP, Sales & Marketing', 'Software Engineer II',
  'Director "Special Projects"', 'Support Agent', 'Customer Success Manager', 'Data Engineer',
  'Ingénieure Qualité', 'マネージャー', 'Chief Executive Officer', 'Head of IT, EMEA',
  'Marketing Specialist', 'Partner Account Manager', 'Solutions Architect', 'Office Manager',
];

export const DEPARTMENTS = [
  'Sales', 'Support', 'Marketing', 'Engineering', 'Finance', 'Human Resources', 'IT',
  'Legal & Compliance', 'Operations', 'Research, Development', 'Vertrieb', '営業部',
];

export const DIVISIONS = ['Americas', 'EMEA', 'APAC', 'Global', 'Public Sector', 'SMB'];

export const COMPANIES = [
  'Acme, Inc.', 'Globex Corporation', 'Initech "Labs"', 'Müller & Söhne GmbH', 'Umbrella Corp.',
  'Société Générale de Test', '株式会社テスト', 'Stark Industries', 'Wayne Enterprises', 'Hooli',
];

export interface Place {
  street: string;
  city: string;
  state: string | null;
  postalCode: string;
  country: string;
  countryIso: string;
  lat: number;
  lon: number;
  phonePrefix: string;
  timeZone: string;
  locale: string;
  language: string;
}

export const PLACES: Place[] = [
  { street: '1 Market St, Suite 300', city: 'San Francisco', state: 'CA', postalCode: '94105', country: 'United States', countryIso: 'US', lat: 37.7941, lon: -122.3951, phonePrefix: '+1 415', timeZone: 'America/Los_Angeles', locale: 'en_US', language: 'en_US' },
  { street: 'Flat 4\n22 Baker Street', city: 'London', state: null, postalCode: 'NW1 6XE', country: 'United Kingdom', countryIso: 'GB', lat: 51.5237, lon: -0.1585, phonePrefix: '+44 20', timeZone: 'Europe/London', locale: 'en_GB', language: 'en_US' },
  { street: 'Calle "Mayor", 5\n3º izquierda', city: 'Madrid', state: 'Madrid', postalCode: '28013', country: 'Spain', countryIso: 'ES', lat: 40.4153, lon: -3.7074, phonePrefix: '+34 91', timeZone: 'Europe/Madrid', locale: 'es_ES', language: 'es' },
  { street: 'Königstraße 12', city: 'München', state: 'Bayern', postalCode: '80331', country: 'Germany', countryIso: 'DE', lat: 48.1374, lon: 11.5755, phonePrefix: '+49 89', timeZone: 'Europe/Berlin', locale: 'de_DE', language: 'de' },
  { street: '8 rue de l\'Église, Bât. B', city: 'Paris', state: 'Île-de-France', postalCode: '75004', country: 'France', countryIso: 'FR', lat: 48.8546, lon: 2.3477, phonePrefix: '+33 1', timeZone: 'Europe/Paris', locale: 'fr_FR', language: 'fr' },
  { street: '東京都千代田区丸の内1-1-1', city: '東京', state: '東京都', postalCode: '100-0005', country: 'Japan', countryIso: 'JP', lat: 35.6812, lon: 139.7671, phonePrefix: '+81 3', timeZone: 'Asia/Tokyo', locale: 'ja_JP', language: 'ja' },
  { street: 'Av. Paulista, 1000', city: 'São Paulo', state: 'SP', postalCode: '01310-100', country: 'Brazil', countryIso: 'BR', lat: -23.5614, lon: -46.6559, phonePrefix: '+55 11', timeZone: 'America/Sao_Paulo', locale: 'pt_BR', language: 'pt_BR' },
  { street: 'Drottninggatan 53', city: 'Stockholm', state: null, postalCode: '111 21', country: 'Sweden', countryIso: 'SE', lat: 59.3326, lon: 18.0649, phonePrefix: '+46 8', timeZone: 'Europe/Stockholm', locale: 'sv_SE', language: 'sv' },
  { street: '350 Fifth Avenue, 34th Floor', city: 'New York', state: 'NY', postalCode: '10118', country: 'United States', countryIso: 'US', lat: 40.7484, lon: -73.9857, phonePrefix: '+1 212', timeZone: 'America/New_York', locale: 'en_US', language: 'en_US' },
  { street: '5 Nehru Place, "Tower B"', city: 'New Delhi', state: 'Delhi', postalCode: '110019', country: 'India', countryIso: 'IN', lat: 28.5494, lon: 77.2517, phonePrefix: '+91 11', timeZone: 'Asia/Kolkata', locale: 'en_IN', language: 'en_US' },
];

export const SIGNATURES = [
  'Best regards,\n{name}',
  '— {name}\n{title}\n"Acme, Inc."',
  'Cheers, {name}',
  'Mit freundlichen Grüßen\n{name}',
  '{name} | {title}\nPhone: {phone}',
];

export const ABOUT_ME = [
  'Loves "hard" problems, coffee, and CSV files with\nembedded newlines.',
  'Joined in 2019. Previously at Globex, Inc.',
  '趣味は登山です。',
  'Ask me about the "Q3, Q4" pipeline.\r\nOut on Fridays.',
  'Runner, reader; father of two.',
];

export const OUT_OF_OFFICE = ['Back on Monday', 'On leave, "urgent" → my manager', 'Vacation until 2 Jan'];
