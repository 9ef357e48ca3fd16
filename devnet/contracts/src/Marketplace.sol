// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC721} from "@openzeppelin/contracts/token/ERC721/IERC721.sol";
import {IERC1155} from "@openzeppelin/contracts/token/ERC1155/IERC1155.sol";
import {IERC2981} from "@openzeppelin/contracts/interfaces/IERC2981.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ERC165Checker} from "@openzeppelin/contracts/utils/introspection/ERC165Checker.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";

/// @title Marketplace
/// @notice Fixed-price listings for ERC-721 and ERC-1155 tokens, paid in ETH or WETH, settled atomically
/// with an ERC-2981 royalty and a protocol fee. Listings are keyed by (collection, tokenId, seller) so
/// callers never need to learn a listing id from a log.
contract Marketplace is ReentrancyGuardTransient {
    using SafeERC20 for IERC20;

    /// @dev Packed into one slot (plus the price) so a buy costs two cold SLOADs for the listing.
    struct Listing {
        address currency; // address(0) = ETH, otherwise `weth`
        uint88 amount; // units still for sale; 0 = no listing
        bool isERC1155;
        uint256 pricePerUnit;
    }

    bytes4 private constant _ERC721_ID = 0x80ac58cd;
    bytes4 private constant _ERC1155_ID = 0xd9b67a26;
    uint256 private constant _BPS = 10_000;

    address public immutable weth;
    address public immutable feeRecipient;
    uint16 public immutable feeBps;

    mapping(address collection => mapping(uint256 tokenId => mapping(address seller => Listing))) private _listings;

    event Listed(
        address indexed collection,
        uint256 indexed tokenId,
        address indexed seller,
        uint256 amount,
        address currency,
        uint256 pricePerUnit
    );
    event Cancelled(address indexed collection, uint256 indexed tokenId, address indexed seller);
    event Sale(
        address indexed collection,
        uint256 tokenId,
        uint256 amount,
        address indexed seller,
        address indexed buyer,
        address currency,
        uint256 price,
        uint256 fee,
        uint256 royalty
    );

    error InvalidFeeBps(uint256 feeBps);
    error ZeroAddress();
    error UnsupportedCurrency(address currency);
    error UnsupportedCollection(address collection);
    error InvalidAmount(uint256 amount);
    error ZeroPrice();
    error NotTokenOwner(address collection, uint256 tokenId, address account);
    error MarketplaceNotApproved(address collection, address owner);
    error ListingNotFound(address collection, uint256 tokenId, address seller);
    error InsufficientListedAmount(uint256 requested, uint256 available);
    error BuyerIsSeller();
    error IncorrectPayment(uint256 sent, uint256 required);
    error RoyaltyTooHigh(uint256 royalty, uint256 maxRoyalty);
    error EthTransferFailed(address to);

    constructor(address weth_, address feeRecipient_, uint16 feeBps_) {
        if (weth_ == address(0) || feeRecipient_ == address(0)) revert ZeroAddress();
        if (feeBps_ > _BPS) revert InvalidFeeBps(feeBps_);
        weth = weth_;
        feeRecipient = feeRecipient_;
        feeBps = feeBps_;
    }

    /// @dev nonReentrant (like cancel) so a seller contract paid during a buy cannot re-list mid-settlement.
    function list(address collection, uint256 tokenId, uint256 amount, address currency, uint256 pricePerUnit)
        external
        nonReentrant
    {
        if (currency != address(0) && currency != weth) revert UnsupportedCurrency(currency);
        if (pricePerUnit == 0) revert ZeroPrice();
        if (amount == 0 || amount > type(uint88).max) revert InvalidAmount(amount);

        bool isERC1155;
        // Unchecked probes (one staticcall each): a collection that does not answer ERC-165 is rejected.
        if (ERC165Checker.supportsERC165InterfaceUnchecked(collection, _ERC721_ID)) {
            if (amount != 1) revert InvalidAmount(amount);
        } else if (ERC165Checker.supportsERC165InterfaceUnchecked(collection, _ERC1155_ID)) {
            isERC1155 = true;
        } else {
            revert UnsupportedCollection(collection);
        }
        _requireSellable(collection, tokenId, msg.sender, amount, isERC1155);

        _listings[collection][tokenId][msg.sender] = Listing({
            currency: currency,
            amount: uint88(amount),
            isERC1155: isERC1155,
            pricePerUnit: pricePerUnit
        });
        emit Listed(collection, tokenId, msg.sender, amount, currency, pricePerUnit);
    }

    function cancel(address collection, uint256 tokenId) external nonReentrant {
        Listing storage l = _listings[collection][tokenId][msg.sender];
        if (l.amount == 0) revert ListingNotFound(collection, tokenId, msg.sender);
        delete _listings[collection][tokenId][msg.sender];
        emit Cancelled(collection, tokenId, msg.sender);
    }

    function buy(address collection, uint256 tokenId, address seller, uint256 amount)
        external
        payable
        nonReentrant
    {
        Listing memory l = _listings[collection][tokenId][seller];
        if (l.amount == 0) revert ListingNotFound(collection, tokenId, seller);
        if (msg.sender == seller) revert BuyerIsSeller();
        if (amount == 0) revert InvalidAmount(amount);
        if (amount > l.amount) revert InsufficientListedAmount(amount, l.amount);
        // A listing outlives transfers and revoked approvals made elsewhere: re-check so a stale listing
        // fails with a clear error instead of the collection's own revert.
        _requireSellable(collection, tokenId, seller, amount, l.isERC1155);

        uint256 price = l.pricePerUnit * amount;
        bool payInEth = l.currency == address(0);
        if (msg.value != (payInEth ? price : 0)) revert IncorrectPayment(msg.value, payInEth ? price : 0);

        if (amount == l.amount) {
            delete _listings[collection][tokenId][seller];
        } else {
            _listings[collection][tokenId][seller].amount = l.amount - uint88(amount);
        }

        uint256 fee = price * feeBps / _BPS;
        (address royaltyReceiver, uint256 royalty) = _royalty(collection, tokenId, price);
        if (royalty > price - fee) revert RoyaltyTooHigh(royalty, price - fee);

        _pay(payInEth, msg.sender, royaltyReceiver, royalty);
        _pay(payInEth, msg.sender, feeRecipient, fee);
        _pay(payInEth, msg.sender, seller, price - fee - royalty);

        if (l.isERC1155) {
            IERC1155(collection).safeTransferFrom(seller, msg.sender, tokenId, amount, "");
        } else {
            IERC721(collection).transferFrom(seller, msg.sender, tokenId);
        }

        emit Sale(collection, tokenId, amount, seller, msg.sender, l.currency, price, fee, royalty);
    }

    function listings(address collection, uint256 tokenId, address seller)
        external
        view
        returns (uint256 amount, address currency, uint256 pricePerUnit)
    {
        Listing storage l = _listings[collection][tokenId][seller];
        return (l.amount, l.currency, l.pricePerUnit);
    }

    function _requireSellable(address collection, uint256 tokenId, address seller, uint256 amount, bool isERC1155)
        private
        view
    {
        if (isERC1155) {
            if (IERC1155(collection).balanceOf(seller, tokenId) < amount) {
                revert NotTokenOwner(collection, tokenId, seller);
            }
            if (!IERC1155(collection).isApprovedForAll(seller, address(this))) {
                revert MarketplaceNotApproved(collection, seller);
            }
        } else {
            if (IERC721(collection).ownerOf(tokenId) != seller) revert NotTokenOwner(collection, tokenId, seller);
            if (!IERC721(collection).isApprovedForAll(seller, address(this))) {
                revert MarketplaceNotApproved(collection, seller);
            }
        }
    }

    /// @dev Royalty is optional: a collection that does not advertise ERC-2981 pays none. The ERC-165 probe
    /// comes first because a try/catch cannot recover from a royaltyInfo that returns malformed data.
    function _royalty(address collection, uint256 tokenId, uint256 price)
        private
        view
        returns (address receiver, uint256 royalty)
    {
        if (!ERC165Checker.supportsERC165InterfaceUnchecked(collection, type(IERC2981).interfaceId)) {
            return (address(0), 0);
        }
        (receiver, royalty) = IERC2981(collection).royaltyInfo(tokenId, price);
        if (receiver == address(0)) return (address(0), 0);
    }

    /// @dev WETH legs are pulled from the buyer straight to each recipient, so the marketplace never holds
    /// funds; zero legs are skipped to save gas and avoid empty Transfer logs.
    function _pay(bool payInEth, address buyer, address to, uint256 value) private {
        if (value == 0) return;
        if (payInEth) {
            (bool ok,) = to.call{value: value}("");
            if (!ok) revert EthTransferFailed(to);
        } else {
            IERC20(weth).safeTransferFrom(buyer, to, value);
        }
    }
}
