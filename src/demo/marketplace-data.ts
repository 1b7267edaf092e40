/**
 * The data of the demo's mock marketplace: partners, their shop domains, products,
 * customers and orders, generated from a seed so every demo run starts from the same
 * state, then changed over time (new orders, status changes) the way a live vendor's
 * data changes between two fetches.
 */

/** A small, fast, seedable PRNG (mulberry32): the same seed gives the same marketplace. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface Partner {
  partner_id: number;
  name: string;
  country: string;
  domains: string[];
  updated_at: string;
}

export interface Product {
  sku: string;
  partner_id: number;
  title: string;
  category: string;
  price: number | string;
  currency: string;
  updated_at: string;
}

export interface Customer {
  customer_id: number;
  name: string;
  email: string;
  phone: string;
  country: string;
  created_at: string;
  updated_at: string;
}

export interface Order {
  order_id: number | null;
  customer_id: number;
  partner_id: number;
  domain: string;
  sku: string;
  quantity: number;
  amount: number | string;
  currency: string;
  status: string;
  created_at: string;
  updated_at: string;
}

/** Countries of the demo's customers, with phone numbers written the way locals write them. */
const COUNTRIES: { code: string; currency: string; phone: (r: () => number) => string }[] = [
  { code: 'FR', currency: 'EUR', phone: (r) => `06 ${pick(r, ['12', '23', '45', '78'])} ${pairs(r, 3)}` },
  { code: 'DE', currency: 'EUR', phone: (r) => `0151 ${digits(r, 8)}` },
  { code: 'GB', currency: 'GBP', phone: (r) => `07${pick(r, ['400', '500', '800', '900'])} ${digits(r, 6)}` },
  { code: 'US', currency: 'USD', phone: (r) => `(212) 4${digits(r, 2)}-${digits(r, 4)}` },
  { code: 'IT', currency: 'EUR', phone: (r) => `3${pick(r, ['20', '33', '47'])} ${digits(r, 7)}` },
  { code: 'ES', currency: 'EUR', phone: (r) => `6${digits(r, 2)} ${digits(r, 3)} ${digits(r, 3)}` },
];

const CATEGORIES = ['books', 'garden', 'kitchen', 'toys', 'outdoor', 'electronics', 'fashion', 'beauty'];
const STATUSES = ['new', 'paid', 'shipped', 'delivered', 'cancelled'];
const FIRST = [
  'Ana',
  'Ben',
  'Chloé',
  'Dario',
  'Emma',
  'Felix',
  'Greta',
  'Hugo',
  'Inès',
  'Jonas',
  'Lucía',
  'Marco',
];
const LAST = [
  'Martin',
  'Müller',
  'Smith',
  'Rossi',
  'García',
  'Dubois',
  'Brown',
  'Schmidt',
  'Bianchi',
  'López',
];

function digits(r: () => number, n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += Math.floor(r() * 10);
  return s;
}

function pairs(r: () => number, n: number): string {
  return Array.from({ length: n }, () => digits(r, 2)).join(' ');
}

function pick<T>(r: () => number, items: readonly T[]): T {
  return items[Math.floor(r() * items.length)] as T;
}

/** Sizes of a generated marketplace. */
export interface MarketplaceSize {
  partners: number;
  domainsPerPartner: number;
  products: number;
  customers: number;
  orders: number;
}

export const DEFAULT_SIZE: MarketplaceSize = {
  partners: 10,
  domainsPerPartner: 50,
  products: 2000,
  customers: 5000,
  orders: 20000,
};

/**
 * A marketplace whose records change as time passes: `advance()` adds orders and moves
 * existing ones through their statuses, bumping `updated_at`, so incremental fetches see
 * both new and updated records.
 */
export class Marketplace {
  readonly partners: Partner[] = [];
  readonly products: Product[] = [];
  readonly customers: Customer[] = [];
  readonly orders: Order[] = [];
  #random: () => number;
  #now: () => Date;
  #nextOrderId = 1;

  constructor(o: { seed?: number; size?: Partial<MarketplaceSize>; now?: () => Date } = {}) {
    const size = { ...DEFAULT_SIZE, ...o.size };
    this.#random = seededRandom(o.seed ?? 42);
    this.#now = o.now ?? (() => new Date());
    const r = this.#random;
    const start = this.#now().getTime() - 30 * 86_400_000;
    const at = (ms: number) => new Date(ms).toISOString();

    for (let p = 1; p <= size.partners; p++) {
      const country = pick(r, COUNTRIES).code;
      const domains = Array.from(
        { length: size.domainsPerPartner },
        (_, d) => `shop${d + 1}.partner${p}.example`,
      );
      this.partners.push({ partner_id: p, name: `Partner ${p}`, country, domains, updated_at: at(start) });
    }
    for (let i = 1; i <= size.products; i++) {
      const partner = this.partners[(i - 1) % this.partners.length] as Partner;
      const price = Math.round((3 + r() * 200) * 100) / 100;
      this.products.push({
        sku: `SKU-${String(i).padStart(6, '0')}`,
        partner_id: partner.partner_id,
        title: `${pick(r, CATEGORIES)} item ${i}`,
        category: pick(r, CATEGORIES),
        // A few prices arrive as text a strict schema must reject.
        price: i % 997 === 0 ? 'call us' : price,
        currency: 'EUR',
        updated_at: at(start + Math.floor(r() * 86_400_000)),
      });
    }
    for (let i = 1; i <= size.customers; i++) {
      const country = pick(r, COUNTRIES);
      const name = `${pick(r, FIRST)} ${pick(r, LAST)}`;
      const created = start + Math.floor(r() * 29 * 86_400_000);
      this.customers.push({
        customer_id: i,
        name,
        email: i % 500 === 0 ? 'not-an-email' : `customer${i}@example.com`,
        // Every 250th number is not a phone number at all.
        phone: i % 250 === 0 ? '12' : country.phone(r),
        country: country.code,
        created_at: at(created),
        updated_at: at(created),
      });
    }
    const span = this.#now().getTime() - start;
    for (let i = 0; i < size.orders; i++) this.#addOrder(start + Math.floor((i / size.orders) * span));
  }

  #addOrder(createdMs: number): Order {
    const r = this.#random;
    const product = pick(r, this.products);
    const partner = this.partners[product.partner_id - 1] as Partner;
    const customer = pick(r, this.customers);
    const quantity = 1 + Math.floor(r() * 4);
    const id = this.#nextOrderId++;
    const price = typeof product.price === 'number' ? product.price : 10;
    const country = COUNTRIES.find((c) => c.code === customer.country);
    const order: Order = {
      // A handful of orders arrive broken: no id, or an amount that is not a number.
      order_id: id % 1999 === 0 ? null : id,
      customer_id: customer.customer_id,
      partner_id: partner.partner_id,
      domain: pick(r, partner.domains),
      sku: product.sku,
      quantity,
      amount: id % 1499 === 0 ? 'N/A' : Math.round(price * quantity * 100) / 100,
      currency: country?.currency ?? 'EUR',
      status: 'new',
      created_at: new Date(createdMs).toISOString(),
      updated_at: new Date(createdMs).toISOString(),
    };
    // Older orders have moved on through their lifecycle.
    const age = (this.#now().getTime() - createdMs) / 86_400_000;
    if (age > 1)
      order.status = age > 5 ? pick(r, ['delivered', 'delivered', 'cancelled']) : pick(r, STATUSES);
    this.orders.push(order);
    return order;
  }

  /** Let time pass: `newOrders` orders arrive and `updates` existing ones change status. */
  advance(newOrders = 200, updates = 100): void {
    const r = this.#random;
    const now = this.#now();
    for (let i = 0; i < newOrders; i++) this.#addOrder(now.getTime() - Math.floor(r() * 60_000));
    for (let i = 0; i < updates; i++) {
      const order = pick(r, this.orders);
      const next = STATUSES.indexOf(order.status) + 1;
      if (next >= STATUSES.length - 1) continue;
      order.status = STATUSES[next] as string;
      order.updated_at = now.toISOString();
    }
  }
}
