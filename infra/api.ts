/**
 * The HTTP API: API Gateway HTTP API → the api function (payload v2). Every route under `/api/`
 * passes the authorizer of the auth mode (IAM: SigV4; JWT: the issuer and audiences given),
 * except `GET /api/v1/health` (readiness checks need no credentials). Paths outside `/api/` match
 * no route. CORS lets the console's origin call it with a bearer token.
 */
import { Duration, type RemovalPolicy } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import {
  CorsHttpMethod,
  HttpApi,
  HttpMethod,
  HttpNoneAuthorizer,
  HttpStage,
  type IHttpRouteAuthorizer,
  LogGroupLogDestination,
} from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpIamAuthorizer, HttpJwtAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { acknowledge } from './nag.ts';
import type { ApiAuth } from './props.ts';

/** The methods the API serves (OPTIONS is left to API Gateway's CORS preflight, before any authorizer). */
const METHODS = [HttpMethod.GET, HttpMethod.POST, HttpMethod.PATCH, HttpMethod.PUT, HttpMethod.DELETE];

/** The unauthenticated route (docs/api.md). */
const HEALTH_PATH = '/api/v1/health';

interface UpdraftApiProps {
  handler: IFunction;
  auth: ApiAuth;
  /** Origins allowed by CORS (the console's). */
  allowOrigins: string[];
  logRetention: RetentionDays;
  removalPolicy: RemovalPolicy;
}

class UpdraftApi extends Construct {
  readonly httpApi: HttpApi;
  readonly stage: HttpStage;

  constructor(scope: Construct, id: string, props: UpdraftApiProps) {
    super(scope, id);
    this.httpApi = new HttpApi(this, 'Http', {
      description: 'Updraft API (docs/api.md)',
      createDefaultStage: false,
      ...(props.allowOrigins.length > 0 && {
        corsPreflight: {
          allowOrigins: props.allowOrigins,
          allowHeaders: ['authorization', 'content-type'],
          allowMethods: [
            CorsHttpMethod.GET,
            CorsHttpMethod.POST,
            CorsHttpMethod.PATCH,
            CorsHttpMethod.PUT,
            CorsHttpMethod.DELETE,
          ],
          maxAge: Duration.hours(1),
        },
      }),
    });
    const logGroup = new LogGroup(this, 'AccessLogs', {
      retention: props.logRetention,
      removalPolicy: props.removalPolicy,
    });
    this.stage = new HttpStage(this, 'Stage', {
      httpApi: this.httpApi,
      stageName: '$default',
      autoDeploy: true,
      throttle: { rateLimit: 50, burstLimit: 100 },
      accessLogSettings: {
        destination: new LogGroupLogDestination(logGroup),
        format: AccessLogFormat.jsonWithStandardFields(),
      },
    });
    const integration = new HttpLambdaIntegration('Lambda', props.handler);
    const authorizer = authorizerOf(props.auth);
    this.httpApi.addRoutes({ path: '/api/{proxy+}', methods: METHODS, integration, authorizer });
    const [health] = this.httpApi.addRoutes({
      path: HEALTH_PATH,
      methods: [HttpMethod.GET],
      integration,
      authorizer: new HttpNoneAuthorizer(),
    });
    acknowledge(
      health!,
      'AwsSolutions-APIG4',
      'the health check answers without credentials on purpose (load balancers, readiness probes)',
    );
  }

  /** The API's base URL, ending in `/`. */
  get url(): string {
    return this.stage.url;
  }
}

function authorizerOf(auth: ApiAuth): IHttpRouteAuthorizer {
  switch (auth.mode) {
    case 'IAM':
      return new HttpIamAuthorizer();
    case 'JWT':
      return new HttpJwtAuthorizer('Jwt', auth.issuer, { jwtAudience: auth.audience });
  }
}

export { HEALTH_PATH, UpdraftApi };
