/**
 * Console hosting: the built console (console/dist, `npm run build:console`) in a private bucket
 * behind CloudFront with origin access control, and a `config.json` beside it that tells the
 * console where the API is and how it authenticates (console/src/api/config.ts reads it).
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { Duration, type RemovalPolicy } from 'aws-cdk-lib';
import {
  Distribution,
  HttpVersion,
  PriceClass,
  ResponseHeadersPolicy,
  ViewerProtocolPolicy,
} from 'aws-cdk-lib/aws-cloudfront';
import { S3BucketOrigin } from 'aws-cdk-lib/aws-cloudfront-origins';
import {
  BlockPublicAccess,
  Bucket,
  BucketEncryption,
  type IBucket,
  ObjectOwnership,
} from 'aws-cdk-lib/aws-s3';
import { BucketDeployment, CacheControl, Source } from 'aws-cdk-lib/aws-s3-deployment';
import { Construct } from 'constructs';
import { ROOT } from './functions.ts';
import { acknowledge } from './nag.ts';

/** Where `npm run build:console` writes the console. */
const CONSOLE_DIST = path.join(ROOT, 'console', 'dist');

interface ConsoleSiteProps {
  accessLogs: IBucket;
  removalPolicy: RemovalPolicy;
}

interface ConsoleConfig {
  /** The API's base URL. */
  apiUrl: string;
  authMode: 'IAM' | 'JWT';
}

class ConsoleSite extends Construct {
  readonly bucket: Bucket;
  readonly distribution: Distribution;

  constructor(scope: Construct, id: string, props: ConsoleSiteProps) {
    super(scope, id);
    if (!existsSync(path.join(CONSOLE_DIST, 'index.html'))) {
      throw new Error(
        `Updraft console: ${path.relative(process.cwd(), CONSOLE_DIST) || CONSOLE_DIST}/index.html is missing: run \`npm run build:console\` first (or pass console: false)`,
      );
    }
    this.bucket = new Bucket(this, 'Files', {
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      encryption: BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      serverAccessLogsBucket: props.accessLogs,
      serverAccessLogsPrefix: 'console-bucket/',
      removalPolicy: props.removalPolicy,
    });
    this.distribution = new Distribution(this, 'Cdn', {
      comment: 'Updraft console',
      defaultRootObject: 'index.html',
      defaultBehavior: {
        origin: S3BucketOrigin.withOriginAccessControl(this.bucket),
        viewerProtocolPolicy: ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
        responseHeadersPolicy: ResponseHeadersPolicy.SECURITY_HEADERS,
      },
      httpVersion: HttpVersion.HTTP2_AND_3,
      priceClass: PriceClass.PRICE_CLASS_100,
      enableLogging: true,
      logBucket: props.accessLogs,
      logFilePrefix: 'console-cdn/',
    });
    acknowledge(
      this.distribution,
      'AwsSolutions-CFR1',
      'the console is for the team wherever it works; the API authenticates every call',
    );
    acknowledge(
      this.distribution,
      'AwsSolutions-CFR2',
      'static files only, and WAF is billed while idle; the API authenticates every call',
    );
    acknowledge(
      this.distribution,
      'AwsSolutions-CFR4',
      'the default *.cloudfront.net certificate cannot pin a minimum TLS version; put a custom domain in front to do so',
    );
  }

  /** Uploads the console and its config.json (the API URL is known only once the API exists). */
  deploy(config: ConsoleConfig): BucketDeployment {
    const deployment = new BucketDeployment(this, 'Upload', {
      destinationBucket: this.bucket,
      sources: [
        Source.asset(CONSOLE_DIST),
        Source.jsonData('config.json', { apiUrl: config.apiUrl, authMode: config.authMode }),
      ],
      distribution: this.distribution,
      distributionPaths: ['/index.html', '/config.json'],
      cacheControl: [CacheControl.setPublic(), CacheControl.maxAge(Duration.minutes(5))],
      memoryLimit: 512,
    });
    return deployment;
  }

  /** Where the console is served, ending in `/`. */
  get url(): string {
    return `${this.origin}/`;
  }

  /** The console's origin, as CORS names it. */
  get origin(): string {
    return `https://${this.distribution.distributionDomainName}`;
  }
}

export { CONSOLE_DIST, ConsoleSite };
